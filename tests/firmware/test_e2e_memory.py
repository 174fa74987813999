"""Memory under load (issue 3): 4 subscribers and 4 concurrent HTTP clients on a heap sized
like an ESP32's (`-X heapsize=64wK`), with no MemoryError and every answer a 200: on the
32-bit build (64 KB, the board's word size), on the 64-bit build, and from source on
Debian's stock micropython at the heap the harness gives it. Peak figures and the smallest
heap are measured by bench/firmware_heap.py."""

from __future__ import annotations

import re
from contextlib import ExitStack

import pytest

from tests.firmware.e2e import (
    assert_still_serves,
    control_load,
    description,
    exchange,
    notify_server,
    status,
    subscribe,
    wait_for,
)
from tests.lan import Lan
from tests.lan.agent import BUILDS, start_agent

pytestmark = [pytest.mark.lan, pytest.mark.usefixtures("lan_sockets")]

SUBSCRIBERS = 4
CLIENTS = 4
ROUNDS = 6
PRESSES = 6


@pytest.mark.parametrize("build", ["frozen-32", "frozen", "source"])
def test_four_subscribers_and_four_clients_fit_the_heap(lan: Lan, build: str) -> None:
    agent = start_agent(lan, build=build)
    heap = BUILDS[build].heap
    assert heap == ("104wK" if build == "source" else "64wK")
    assert f"heapsize={heap}" in agent.process.popen.args
    desc = description(lan.add_host("pc"), agent)
    paths = re.findall(r"<eventSubURL>([^<]+)</eventSubURL>", desc)
    hosts = [lan.add_host(f"cp{i}") for i in range(SUBSCRIBERS)]
    with ExitStack() as stack:
        inboxes = [stack.enter_context(notify_server(host)) for host in hosts]
        # Each control point subscribes to every service of the board (4 x 8).
        for host in hosts:
            for path in paths:
                answer = exchange(host, agent, subscribe(agent, path, f"<http://{host.ip}:8123/n>"))
                assert status(answer) == 200, answer[:120]
        wait_for(lambda: all(len(inbox) >= len(paths) for inbox in inboxes), timeout=60)
        failures = control_load(agent, hosts[:CLIENTS], desc, rounds=ROUNDS, presses=PRESSES)
        stats = agent.stats()
    assert failures == []
    assert agent.alive()
    assert "MemoryError" not in agent.process.output()
    assert stats["subscriptions"] == SUBSCRIBERS * len(paths)
    assert stats["connections_peak"] >= 2
    assert_still_serves(hosts[0], agent)
