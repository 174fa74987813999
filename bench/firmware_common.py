"""Shared pieces of the firmware benchmarks (run inside the sandbox as root):

PYTHONPATH=/repo python bench/firmware_heap.py
"""

from __future__ import annotations

import re

from tests.firmware.e2e import (
    description,
    exchange,
    notify_server,
    request,
    sign,
    soap,
    status,
    url_of,
)
from tests.lan import Host, Lan
from tests.lan.agent import PAIRED_CONFIG, Agent, boot_id, start_agent

__all__ = [
    "PAIRED_CONFIG",
    "Agent",
    "Host",
    "Lan",
    "boot_id",
    "description",
    "exchange",
    "notify_server",
    "request",
    "sign",
    "soap",
    "start_agent",
    "status",
    "url_of",
]


def sid_of(response: bytes) -> str:
    match = re.search(rb"SID: (\S+)", response)
    assert match, response
    return match.group(1).decode()
