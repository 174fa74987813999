"""HTTP limits on the running agent: each is broken, answered with its documented status,
and the agent keeps serving (docs/firmware.md, "Limits"; firmware/upnpguard/limits.py)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.firmware.e2e import assert_still_serves, exchange, request, status
from tests.lan import Lan
from tests.lan.agent import Agent

pytestmark = [pytest.mark.lan, pytest.mark.usefixtures("lan_sockets")]

REQUEST_LINE_MAX = 512
HEADERS_MAX = 24
HEADER_BLOCK_MAX = 2048
BODY_MAX = 4096
READ_DEADLINE_S = 5
MAX_CONNECTIONS = 4
PER_PEER = 2


@pytest.mark.parametrize(
    ("attack", "expected"),
    [
        pytest.param(
            lambda a: f"GET /{'a' * REQUEST_LINE_MAX} HTTP/1.1\r\n\r\n".encode(),
            400,
            id="request-line",
        ),
        pytest.param(
            lambda a: request(a, "GET", "/desc.xml", {f"X-H{i}": "1" for i in range(HEADERS_MAX)}),
            431,
            id="header-count",
        ),
        pytest.param(
            lambda a: request(a, "GET", "/desc.xml", {"X-Big": "b" * HEADER_BLOCK_MAX}),
            431,
            id="header-block",
        ),
        pytest.param(
            lambda a: request(
                a, "POST", "/desc.xml", {"CONTENT-LENGTH": str(BODY_MAX + 1)}
            ).replace(b"CONTENT-LENGTH: 0\r\n", b""),
            413,
            id="body",
        ),
        pytest.param(
            lambda a: f"POST /desc.xml HTTP/1.1\r\nHOST: {a.ip}:{a.port}\r\n\r\n".encode(),
            411,
            id="no-length",
        ),
        pytest.param(
            lambda a: b"GET /desc.xml HTTP/1.1\r\nHOST: attacker.example:49152\r\n\r\n",
            400,
            id="dns-rebinding-host",
        ),
        pytest.param(lambda a: b"GET /desc.xml HTTP/1.1\r\n\r\n", 400, id="no-host"),
        pytest.param(lambda a: request(a, "GET", "/etc/passwd"), 404, id="unknown-path"),
        pytest.param(lambda a: request(a, "DELETE", "/desc.xml"), 405, id="wrong-method"),
        pytest.param(
            lambda a: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, id="tls"
        ),
    ],
)
def test_limit_answers_and_agent_keeps_serving(
    lan: Lan, agent: Agent, attack, expected: int
) -> None:
    pc = lan.add_host("pc")
    response = exchange(pc, agent, attack(agent))
    assert status(response) == expected, response[:200]
    assert_still_serves(pc, agent)
    assert agent.stats()["refused"][str(expected)] >= 1


def test_slowloris_gets_408_and_connection_closed(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    with pc.entered(), socket.create_connection((agent.ip, agent.port), 30) as sock:
        sock.sendall(b"GET /desc.xml HTTP/1.1\r\n")
        started = time.monotonic()
        # Trickle one header byte per second: never completes the header block.
        response = b""
        sock.settimeout(1.0)
        for _ in range(READ_DEADLINE_S * 4):
            try:
                sock.sendall(b"X")
                chunk = sock.recv(1024)
            except TimeoutError:
                continue
            except OSError:
                break
            response += chunk
            if not chunk:
                break
        elapsed = time.monotonic() - started
    assert status(response) == 408, response
    assert elapsed < READ_DEADLINE_S * 4
    assert_still_serves(pc, agent)


def test_connection_cap_answers_503_then_recovers(lan: Lan, agent: Agent) -> None:
    # Two hosts hold two incomplete requests each (their share): all four connections.
    holders = [lan.add_host(f"holder{i}") for i in range(MAX_CONNECTIONS // PER_PEER)]
    pc = lan.add_host("pc")
    idle = []
    try:
        for holder in holders:
            with holder.entered():
                for _ in range(PER_PEER):
                    sock = socket.create_connection((agent.ip, agent.port), 30)
                    sock.sendall(b"GET /desc.xml HTTP/1.1\r\n")  # held open, incomplete
                    idle.append(sock)
        time.sleep(0.5)
        with pc.entered(), socket.create_connection((agent.ip, agent.port), 30) as extra:
            extra.sendall(request(agent, "GET", "/desc.xml"))
            extra.settimeout(10)
            answer = extra.recv(1024)
        assert status(answer) == 503, answer
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.5)
    assert_still_serves(pc, agent)
    stats = agent.stats()
    assert stats["refused"]["503"] >= 1
    assert stats["connections_peak"] == MAX_CONNECTIONS + 1
