"""Mutated requests over real TCP to the running agent (32-bit build, 64 KB heap): each
gets a documented status or, when the mutation left the request incomplete, a closed
connection once the client stops sending; a normal request is served throughout, and
the agent ends alive with no MemoryError or traceback. Bounded: ROUNDS requests."""

from __future__ import annotations

import contextlib
import random
import re
import socket
from collections import Counter

import pytest

from fuzz.mutate import mutate
from tests.firmware.e2e import (
    IO_TIMEOUT,
    assert_still_serves,
    description,
    request,
    set_target,
    subscribe,
)
from tests.lan import Host, Lan
from tests.lan.agent import Agent

pytestmark = [pytest.mark.lan, pytest.mark.usefixtures("lan_sockets")]

ROUNDS = 240
DOCUMENTED = {200, 400, 404, 405, 408, 411, 412, 413, 431, 500, 503}


def send_and_close(host: Host, agent: Agent, data: bytes) -> bytes:
    """Send `data`, half-close (no more is coming), read the answer until the agent closes."""
    chunks = []
    with host.entered(), socket.create_connection((agent.ip, agent.port), IO_TIMEOUT) as sock:
        with contextlib.suppress(OSError):  # the agent may answer and close mid-send
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(4096):
                chunks.append(chunk)
    return b"".join(chunks)


def test_mutated_requests_get_documented_answers_and_the_agent_keeps_serving(
    lan: Lan, agent: Agent
) -> None:
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    scpd = re.findall(r"<SCPDURL>([^<]+)</SCPDURL>", desc)[1]
    event = re.findall(r"<eventSubURL>([^<]+)</eventSubURL>", desc)[1]
    seeds = [
        request(agent, "GET", "/desc.xml"),
        request(agent, "GET", scpd),
        set_target(agent, desc, 1),
        subscribe(agent, event, f"<http://{pc.ip}:8123/n>"),
        request(agent, "UNSUBSCRIBE", event, {"SID": "uuid:0"}),
    ]
    rng = random.Random(20261126)
    answers: Counter[int | str] = Counter()
    for index in range(ROUNDS):
        data = mutate(rng, seeds[index % len(seeds)], seeds)
        reply = send_and_close(pc, agent, data)
        if not reply:
            answers["closed"] += 1
        else:
            match = re.match(rb"HTTP/1\.1 (\d{3}) ", reply)
            assert match, (data, reply[:200])
            code = int(match.group(1))
            assert code in DOCUMENTED, (data, reply[:200])
            answers[code] += 1
        if index % 40 == 0:
            assert_still_serves(pc, agent)
    assert_still_serves(pc, agent)
    assert agent.alive()
    output = agent.process.output()
    assert "MemoryError" not in output
    assert "Traceback" not in output
    # No request ended in the shell's catch-all (an exception instead of an answer).
    assert "http client error" not in output
    # The mutations reached several rules, not only the first parser check.
    assert len([code for code in answers if code != "closed"]) >= 4, answers
    assert sum(answers.values()) == ROUNDS
