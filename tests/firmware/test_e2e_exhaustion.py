"""Attacks that try to exhaust the running agent's sockets, heap or tasks from one host, and
what a board does when it cannot serve any more (docs/firmware.md, "Limits": per-peer caps,
NOTIFYs in flight counted globally, XML attributes capped, long-lived tasks supervised and
the watchdog). Each attack is followed by a normal request that must be answered."""

from __future__ import annotations

import contextlib
import re
import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.firmware.e2e import (
    assert_still_serves,
    description,
    exchange,
    msearch_datagram,
    notify_server,
    request,
    search,
    set_target,
    sid_of,
    status,
    subscribe,
    threaded_server,
    url_of,
    wait_for,
)
from tests.lan import Host, Lan
from tests.lan.agent import DEFAULT_CONFIG, Agent, boot_id, start_agent

pytestmark = [pytest.mark.lan, pytest.mark.usefixtures("lan_sockets")]

PER_PEER = 2  # HTTP_MAX_CONNECTIONS_PER_PEER
IDLE_S = 1.0  # HTTP_IDLE_MS
NOTIFY_IN_FLIGHT = 4  # GENA_MAX_NOTIFY_IN_FLIGHT
SOAP_MAX_ATTRIBUTES = 16


@contextlib.contextmanager
def black_hole(host: Host, port: int = 8123) -> Iterator[dict[str, int]]:
    """A GENA callback that accepts NOTIFYs and never answers; counts the connections the
    agent holds open to it at once ("peak") and in all ("accepted")."""
    counts = {"accepted": 0, "open": 0, "peak": 0}

    def serve(server: socket.socket, stop: threading.Event) -> None:
        conns: list[socket.socket] = []
        while not stop.is_set():
            readable, _, _ = select.select([server, *conns], [], [], 0.05)
            for sock in readable:
                if sock is server:
                    conn, _ = server.accept()
                    conns.append(conn)
                    counts["accepted"] += 1
                    continue
                try:
                    data = sock.recv(4096)  # the NOTIFY: read, never answered
                except OSError:
                    data = b""
                if not data:  # the agent closed it
                    conns.remove(sock)
                    sock.close()
            counts["open"] = len(conns)
            counts["peak"] = max(counts["peak"], len(conns))
        for conn in conns:
            conn.close()

    with threaded_server(host, port, serve, backlog=64):
        yield counts


def test_subscribe_unsubscribe_loop_cannot_exceed_notifies_in_flight(
    lan: Lan, agent: Agent
) -> None:
    attacker = lan.add_host("attacker")
    pc = lan.add_host("pc")
    path = url_of(description(attacker, agent), "eventSubURL", "BinaryInput")
    with black_hole(attacker) as counts:
        for _ in range(50):
            answer = exchange(
                attacker, agent, subscribe(agent, path, f"<http://{attacker.ip}:8123/n>")
            )
            assert status(answer) == 200, answer[:120]
            sid = sid_of(answer)
            gone = exchange(attacker, agent, request(agent, "UNSUBSCRIBE", path, {"SID": sid}))
            assert status(gone) == 200
        time.sleep(0.5)
        assert counts["accepted"] >= 1  # the initial NOTIFYs did go out
        # Removed subscriptions' deliveries are cancelled and were counted meanwhile.
        assert counts["peak"] <= NOTIFY_IN_FLIGHT, counts
        wait_for(lambda: counts["open"] == 0, timeout=10)
    stats = agent.stats()
    assert stats["notify_in_flight_peak"] <= NOTIFY_IN_FLIGHT
    assert stats["notify_in_flight"] == 0
    assert stats["notify_cancelled"] >= 1  # closed at UNSUBSCRIBE, not after its timeouts
    assert stats["subscriptions"] == 0
    # Nothing lost for a normal subscriber.
    with notify_server(pc) as events:
        ok = exchange(pc, agent, subscribe(agent, path, f"<http://{pc.ip}:8123/n>"))
        assert status(ok) == 200
        wait_for(lambda: len(events) == 1)
        agent.press_button("doorbell")
        wait_for(lambda: any(b"<PressCount>1</PressCount>" in event for event in events))
    assert_still_serves(pc, agent)
    assert "MemoryError" not in agent.process.output()


def test_notifies_beyond_the_cap_wait_and_unsubscribe_cancels_those_in_flight(
    lan: Lan, agent: Agent
) -> None:
    """One host subscribes a never-answering callback to every evented service at once:
    more initial NOTIFYs than GENA_MAX_NOTIFY_IN_FLIGHT. The agent holds exactly the cap
    open (the others wait), and UNSUBSCRIBE closes those in flight at once."""
    attacker = lan.add_host("attacker")
    pc = lan.add_host("pc")
    paths = re.findall(r"<eventSubURL>([^<]+)</eventSubURL>", description(attacker, agent))
    assert len(paths) > NOTIFY_IN_FLIGHT, paths  # the load exceeds the cap
    with black_hole(attacker) as counts:
        sids = []
        for path in paths:
            answer = exchange(
                attacker, agent, subscribe(agent, path, f"<http://{attacker.ip}:8123/n>")
            )
            assert status(answer) == 200, answer[:120]
            sids.append((path, sid_of(answer)))
        wait_for(lambda: counts["open"] == NOTIFY_IN_FLIGHT, timeout=10)
        assert agent.stats()["notify_in_flight"] == NOTIFY_IN_FLIGHT
        for path, sid in sids:
            gone = exchange(attacker, agent, request(agent, "UNSUBSCRIBE", path, {"SID": sid}))
            assert status(gone) == 200
        wait_for(lambda: counts["open"] == 0, timeout=10)
        assert counts["peak"] == NOTIFY_IN_FLIGHT, counts
    stats = agent.stats()
    assert stats["notify_in_flight_peak"] == NOTIFY_IN_FLIGHT
    assert stats["notify_in_flight"] == 0
    # The ones open at UNSUBSCRIBE were closed then, not after their timeouts.
    assert stats["notify_cancelled"] >= 1
    assert stats["subscriptions"] == 0
    # Nothing lost for a normal subscriber.
    with notify_server(pc) as events:
        path = url_of(description(pc, agent), "eventSubURL", "BinaryInput")
        ok = exchange(pc, agent, subscribe(agent, path, f"<http://{pc.ip}:8123/n>"))
        assert status(ok) == 200
        wait_for(lambda: len(events) == 1)
        agent.press_button("doorbell")
        wait_for(lambda: any(b"<PressCount>1</PressCount>" in event for event in events))
    assert "MemoryError" not in agent.process.output()


def test_one_host_cannot_hold_every_connection(lan: Lan, agent: Agent) -> None:
    attacker = lan.add_host("attacker")
    pc = lan.add_host("pc")
    held = []
    try:
        # 20 dribbling connections from one host, 0.1 s apart: each beyond its share
        # replaces one of its connections idle for a second, or is refused.
        with attacker.entered():
            for _ in range(20):
                sock = socket.create_connection((agent.ip, agent.port), 30)
                sock.sendall(b"GET /desc.xml HTTP/1.1\r\n")  # never completed
                held.append(sock)
                time.sleep(0.1)
        # Another host is served during the attack.
        answer = exchange(pc, agent, request(agent, "GET", "/desc.xml"))
        assert status(answer) == 200, answer[:200]
        stats = agent.stats()
        assert stats["connections_evicted"] >= 1
        assert stats["refused"].get("503", 0) >= 1
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)  # the agent sees the attacker's connections close
    assert_still_serves(attacker, agent)


def test_a_peer_over_its_share_loses_its_oldest_idle_connection(lan: Lan, agent: Agent) -> None:
    attacker = lan.add_host("attacker")
    with attacker.entered():
        first, second = (socket.create_connection((agent.ip, agent.port), 30) for _ in "12")
        try:
            first.sendall(b"GET /desc.xml HTTP/1.1\r\n")
            time.sleep(0.3)
            second.sendall(b"GET /desc.xml HTTP/1.1\r\n")
            time.sleep(IDLE_S + 0.2)
            # The third takes the place of the first (idle the longest) and is served.
            with socket.create_connection((agent.ip, agent.port), 30) as third:
                third.sendall(request(agent, "GET", "/desc.xml"))
                third.settimeout(10)
                assert status(third.recv(1024)) == 200
            first.settimeout(5)
            assert first.recv(1024) == b""  # closed, no answer
            # The second is still there and gets its answer when it completes.
            second.sendall(f"HOST: {agent.ip}:{agent.port}\r\n\r\n".encode())
            second.settimeout(10)
            assert status(second.recv(1024)) == 200
        finally:
            first.close()
            second.close()
    assert agent.stats()["connections_evicted"] == 1


def test_one_host_gets_one_subscription_per_service(lan: Lan, agent: Agent) -> None:
    attacker = lan.add_host("attacker")
    pc = lan.add_host("pc")
    path = url_of(description(attacker, agent), "eventSubURL", "SwitchPower")
    with notify_server(attacker), notify_server(pc) as events:
        first = exchange(attacker, agent, subscribe(agent, path, f"<http://{attacker.ip}:8123/0>"))
        assert status(first) == 200
        for port in range(1, 4):
            again = subscribe(agent, path, f"<http://{attacker.ip}:8123/{port}>")
            assert status(exchange(attacker, agent, again)) == 503
        ok = exchange(pc, agent, subscribe(agent, path, f"<http://{pc.ip}:8123/n>"))
        assert status(ok) == 200
        wait_for(lambda: len(events) == 1)
    assert agent.stats()["subscriptions"] == 2


def test_xml_attribute_flood_is_400(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    # The 480 attributes in 3.8 KB (39.5 KB of heap when they were not capped).
    flood = " ".join(f'{chr(97 + i // 26)}{chr(97 + i % 26)}="1"' for i in range(480))
    data = set_target(agent, desc, 1)
    head, body = data.split(b"\r\n\r\n", 1)
    body = body.replace(b"<u:SetTarget ", b"<u:SetTarget " + flood.encode() + b" ")
    assert len(body) < 4096
    head = re.sub(rb"CONTENT-LENGTH: \d+", f"CONTENT-LENGTH: {len(body)}".encode(), head)
    # 400 from the attribute cap; a 503 (a MemoryError while the 3.6 KB body is read,
    # when a busy moment left the 64 KB heap fragmented: seen under load) is the agent's
    # documented answer too, so the flood is sent again (bounded) until the cap answers.
    answers = []
    for _ in range(4):
        answers.append(status(exchange(pc, agent, head + b"\r\n\r\n" + body)))
        if answers[-1] != 503:
            break
    assert answers[-1] == 400, answers
    assert agent.pins()["5"] == 0  # the action did not run
    ok = exchange(pc, agent, data)
    assert status(ok) == 200
    assert agent.pins()["5"] == 1


def _hammer(host: Host, agent: Agent, seconds: float) -> None:
    """Connections and M-SEARCHes while the heap is exhausted (their answers may fail)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, AssertionError):
            exchange(host, agent, request(agent, "GET", "/desc.xml"), timeout=0.3)
        search(host, msearch_datagram("upnp:rootdevice"), target=agent.ip, wait=0.1)


def _serves_again(host: Host, agent: Agent, within: float) -> None:
    """A restarted task waits out its pause (<= 3.2 s after 5 failures) before it serves."""
    deadline = time.monotonic() + within
    while True:
        try:
            answer = exchange(host, agent, request(agent, "GET", "/desc.xml"), timeout=2)
            if answer and status(answer) == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "the agent did not serve again"
        time.sleep(0.2)


def test_heap_exhaustion_is_survived_by_every_long_lived_task(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    assert_still_serves(pc, agent)
    # Every free heap block held for 1.5 s (the unix HAL's `hog`) while connections and
    # searches arrive: their tasks hit MemoryError and are restarted, not lost.
    agent.command("hog", "1500")
    _hammer(pc, agent, 1.5)
    _serves_again(pc, agent, within=15)
    # The receiver may still be in its restart pause (up to 3 s after 4 failures): the
    # hammer's searches wait in the socket buffer, and once it reads them the ones beyond
    # SSDP_MAX_ST_PER_SOURCE pending are dropped, possibly ours. A control point repeats
    # its M-SEARCH (UDA); so does this test, a bounded number of times.
    replies: list[bytes] = []
    for _ in range(5):
        replies = search(pc, msearch_datagram("upnp:rootdevice"), target=agent.ip, expect=1, wait=3)
        if replies:
            break
    stats = agent.stats()
    assert replies, f"the SSDP receiver did not come back: {stats}"
    assert stats["task_restarts"] >= 1
    assert stats["watchdog_fed"] is True
    assert_still_serves(pc, agent)


def test_agent_that_cannot_serve_stops_feeding_the_watchdog(lan: Lan) -> None:
    state = lan.workdir / "board-state"
    state.mkdir()
    config = {**DEFAULT_CONFIG, "watchdog_ms": 5000}
    agent = start_agent(lan, "board", config, state_dir=state)
    pc = lan.add_host("pc")
    assert_still_serves(pc, agent)
    # 9 s without heap while connections arrive: the accept loop fails again after each
    # restart until its supervisor gives up (about 6 s); the watchdog then goes unfed.
    agent.command("hog", "9000")
    _hammer(pc, agent, 9.0)
    agent.process.wait_for_output(r"\[E\] watchdog reset", timeout=40)
    agent.process.popen.wait(10)
    assert agent.process.popen.returncode == 1
    # The board comes back and serves, with the next BOOTID.
    again = start_agent(lan, "board2", config, state_dir=state, host=agent.host)
    assert boot_id(again) == boot_id(agent) + 1
    assert_still_serves(pc, again)
