"""SSDP on the running agent: announcements seen by gssdp, search rules, subnet filter,
the per-source reply budget (amplification), and a flood that must not starve HTTP/GENA."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.firmware.e2e import (
    assert_still_serves,
    description,
    exchange,
    msearch_datagram,
    notify_server,
    request,
    search,
    status,
    upnp_client_search,
    url_of,
)
from tests.lan import SSDP_GROUP, SSDP_PORT, Lan
from tests.lan.agent import Agent, start_agent


def _limit(name: str) -> int:
    """A constant of firmware/upnpguard/limits.py (this process does not import the
    firmware package: it runs under MicroPython)."""
    text = (Path(__file__).parents[2] / "firmware" / "upnpguard" / "limits.py").read_text()
    match = re.search(rf"^{name} = const\(([\d_]+)\)", text, re.M)
    assert match, name
    return int(match.group(1))


SSDP_FIRST_CONTACT_BYTES = _limit("SSDP_FIRST_CONTACT_BYTES")
SSDP_SOURCES_MAX = _limit("SSDP_SOURCES_MAX")

pytestmark = [pytest.mark.lan, pytest.mark.usefixtures("lan_sockets")]


def test_gssdp_sees_alive_and_byebye(lan: Lan) -> None:
    pc = lan.add_host("pc")
    watcher = pc.start(
        "gssdp-discover",
        "-i",
        "eth0",
        "-t",
        "urn:upnp-guard-org:device:Agent:1",
        "-m",
        "all",
        "-n",
        "60",
        label="gssdp",
    )
    time.sleep(1.0)  # gssdp joins the group before the agent announces
    agent = start_agent(lan)
    watcher.wait_for_output(r"resource available", timeout=30)
    assert agent.description_url in watcher.output()
    agent.stop()
    watcher.wait_for_output(r"resource unavailable", timeout=30)
    assert agent.process.popen.returncode == 0


def test_search_for_each_target_kind(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    replies = search(pc, msearch_datagram("upnp:rootdevice"), expect=1)
    assert len(replies) == 1
    udn = re.search(rb"USN: (uuid:[0-9a-f-]+)::upnp:rootdevice", replies[0]).group(1).decode()
    assert len(search(pc, msearch_datagram(udn), expect=1)) == 1
    # A lower version of a type we implement is answered with the version asked for.
    lower = search(pc, msearch_datagram("urn:schemas-upnp-org:device:BinaryLight:1"))
    assert len(lower) == 1
    assert b"ST: urn:schemas-upnp-org:device:BinaryLight:1\r\n" in lower[0]
    assert search(pc, msearch_datagram("urn:schemas-upnp-org:device:BinaryLight:2"), wait=3) == []
    services = search(pc, msearch_datagram("urn:schemas-upnp-org:service:SwitchPower:1"))
    assert len(services) == 2  # relay and lamp
    # Another host: these five answers and a full ssdp:all answer (26 replies, 8.6 KB)
    # are more than one host's first-contact allowance in a budget window.
    everything = search(lan.add_host("pc2"), msearch_datagram("ssdp:all"), expect=21)
    assert len(everything) == 21
    for reply in everything:
        assert b"BOOTID.UPNP.ORG: 1\r\n" in reply
        assert b"CONFIGID.UPNP.ORG: " in reply
        assert f"LOCATION: {agent.description_url}\r\n".encode() in reply


def test_unicast_search_is_answered(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    datagram = msearch_datagram("upnp:rootdevice", mx=None, host=f"{agent.ip}:{SSDP_PORT}")
    assert len(search(pc, datagram, target=agent.ip, wait=3)) == 1


def test_man_must_be_exact_and_mx_required(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    assert search(pc, msearch_datagram("ssdp:all", man="ssdp:discover"), wait=3) == []
    assert search(pc, msearch_datagram("ssdp:all", man='"ssdp:discover" '), wait=3) != []
    assert search(pc, msearch_datagram("upnp:rootdevice", mx=None), wait=3) == []
    assert agent.stats()["ssdp_dropped_invalid"] >= 2
    assert len(search(pc, msearch_datagram("upnp:rootdevice"), expect=1)) == 1


def test_search_from_wan_gets_no_reply(lan: Lan, agent: Agent) -> None:
    lan.add_router()
    isp = lan.hosts["isp"]
    datagram = msearch_datagram("ssdp:all", mx=None, host=f"{agent.ip}:{SSDP_PORT}")
    # Routed unicast from the WAN side reaches the agent, which must stay silent.
    assert search(isp, datagram, target=agent.ip, wait=3) == []
    assert agent.stats()["ssdp_dropped_foreign"] == 1
    pc = lan.add_host("pc")
    assert len(search(pc, msearch_datagram("upnp:rootdevice"), expect=1)) == 1


def test_spoofed_source_outside_subnet_gets_no_reply(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    # An address of another network on the LAN wire: what a spoofing attacker sends.
    foreign = str(lan.wan_net.network_address + 99)
    pc.run("ip", "addr", "add", f"{foreign}/32", "dev", "eth0")
    assert search(pc, msearch_datagram("ssdp:all"), source_ip=foreign, wait=3) == []
    assert agent.stats()["ssdp_dropped_foreign"] == 1
    assert len(search(pc, msearch_datagram("upnp:rootdevice"), expect=1)) == 1


def test_flood_sends_fewer_bytes_than_it_receives(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    sent = received = 0
    with pc.entered():
        socks = []
        try:
            # 20 source ports x 25 rounds of ssdp:all, ~2.5 s, all on the agent's subnet.
            for _ in range(20):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.bind((pc.ip, 0))
                sock.setblocking(False)
                socks.append(sock)
            datagram = msearch_datagram("ssdp:all", mx=1)
            for _ in range(25):
                for sock in socks:
                    sock.sendto(datagram, (SSDP_GROUP, SSDP_PORT))
                    sent += len(datagram)
                time.sleep(0.1)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                for sock in socks:
                    try:
                        while True:
                            received += len(sock.recv(2048))
                    except BlockingIOError:
                        pass
                time.sleep(0.05)
        finally:
            for sock in socks:
                sock.close()
    assert sent > 0
    assert 0 < received <= sent, (received, sent)
    stats = agent.stats()
    assert stats["ssdp_dropped_budget"] + stats["ssdp_dropped_busy"] > 0
    # The flooder's budget is its own: another host is answered in full at once.
    assert len(search(lan.add_host("pc2"), msearch_datagram("ssdp:all"), expect=21)) == 21


FLOOD = str(Path(__file__).with_name("ssdp_flood.py"))
FLOOD_S = 8  # the flood outlasts what the test waits for by seconds
FLOOD_MAX = 2_000_000  # datagrams; bounds the flood on a fast machine


def test_flood_does_not_starve_http_and_gena(lan: Lan, agent: Agent) -> None:
    """A datagram flood keeps the SSDP socket readable all the time; the receive loop
    must still yield so HTTP, GENA and the housekeeping task (watchdog) run."""
    attacker = lan.add_host("attacker")
    pc = lan.add_host("pc")
    path = url_of(description(pc, agent), "eventSubURL", "SwitchPower")
    flood = attacker.start(
        sys.executable, FLOOD, agent.ip, str(FLOOD_S), str(FLOOD_MAX), "0", label="flood"
    )
    flood.wait_for_output("flooding")
    time.sleep(0.5)  # the agent's receive queue is full by now
    with notify_server(pc) as events:
        got = exchange(pc, agent, request(agent, "GET", "/desc.xml"))
        desc_during_flood = flood.popen.poll() is None
        callback = f"<http://{pc.ip}:8123/n>"
        subscribed = exchange(
            pc,
            agent,
            request(
                agent,
                "SUBSCRIBE",
                path,
                {"NT": "upnp:event", "CALLBACK": callback, "TIMEOUT": "Second-300"},
            ),
        )
        while not events and flood.popen.poll() is None:
            time.sleep(0.05)
        event_during_flood = bool(events) and flood.popen.poll() is None
        stats = agent.command("stats", timeout=30)
        stats_during_flood = flood.popen.poll() is None
    flood.wait_for_output(r"done \d+", timeout=30)
    assert status(got) == 200
    assert b"urn:upnp-guard-org:device:Agent:1" in got
    assert status(subscribed) == 200
    assert events
    assert events[0].startswith(b"NOTIFY /n HTTP/1.1")
    # Served while the flood was still running, not after it ended.
    assert desc_during_flood, flood.output()
    assert event_during_flood, flood.output()
    assert stats_during_flood, flood.output()  # the control channel task ran too
    assert stats["ssdp_bytes_in"] > 0


def replies_to(sock: socket.socket, until: float) -> int:
    """Bytes of the replies arriving on `sock` until the monotonic time `until`."""
    received = 0
    while (left := until - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            received += len(sock.recv(2048))
        except TimeoutError:
            break
    return received


def test_single_search_gets_full_answer_repeats_only_what_they_pay(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    # Discovery: the first ssdp:all of a host is answered in full (the allowance).
    first = search(pc, msearch_datagram("ssdp:all"), expect=21)
    assert len(first) == 21
    # The same host asking again and again (unicast: answered at once) over 4 s gets back
    # no more than max(allowance, what it sent) in all.
    datagram = msearch_datagram("ssdp:all", mx=None, host=f"{agent.ip}:{SSDP_PORT}")
    sent = len(msearch_datagram("ssdp:all"))
    received = sum(len(reply) for reply in first)
    with pc.entered(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((pc.ip, 0))
        for _ in range(20):
            sock.sendto(datagram, (agent.ip, SSDP_PORT))
            sent += len(datagram)
            received += replies_to(sock, time.monotonic() + 0.2)
        received += replies_to(sock, time.monotonic() + 2)
    assert received <= max(SSDP_FIRST_CONTACT_BYTES, sent), (received, sent)


def test_one_second_burst_gets_back_no_more_than_it_sent(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    datagram = msearch_datagram("ssdp:all", mx=None, host=f"{agent.ip}:{SSDP_PORT}")
    sent = received = 0
    with pc.entered(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((pc.ip, 0))
        sock.setblocking(False)
        started = time.monotonic()
        for i in range(100):  # 100 ssdp:all in 1 s, more bytes than the allowance
            sock.sendto(datagram, (agent.ip, SSDP_PORT))
            sent += len(datagram)
            time.sleep(max(0.0, started + (i + 1) / 100 - time.monotonic()))
        received = replies_to(sock, time.monotonic() + 3)
    assert sent > SSDP_FIRST_CONTACT_BYTES
    assert received > 0  # the first search was answered
    assert received <= sent, (received, sent)  # amplification <= 1.0
    assert agent.stats()["ssdp_dropped_budget"] > 0


def test_many_spoofed_sources_do_not_starve_a_searcher(lan: Lan, agent: Agent) -> None:
    attacker = lan.add_host("attacker")
    pc = lan.add_host("pc")
    spoofed = [str(lan.lan_net.network_address + 200 + i) for i in range(40)]
    for address in spoofed:
        attacker.run("ip", "addr", "add", f"{address}/32", "dev", "eth0")
    # 40 on-subnet addresses, 400 ssdp:all a second in all (what the agent can read on
    # this machine: a faster flood only fills the kernel's queue and drops there).
    flood = attacker.start(
        sys.executable, FLOOD, agent.ip, "20", "8000", "400", *spoofed, label="flood"
    )
    flood.wait_for_output("flooding")
    time.sleep(1.0)
    answers = []
    for _ in range(5):  # a control point repeats its search
        replies = search(pc, msearch_datagram("ssdp:all"), expect=21, wait=3)
        answers.append(len(replies))
        if len(replies) == 21:
            break
    stats = agent.stats()
    still_flooding = flood.popen.poll() is None
    flood.stop()
    assert still_flooding, flood.output()
    assert 21 in answers, answers
    assert stats.get("ssdp_sources", 0) <= SSDP_SOURCES_MAX
    assert stats["ssdp_dropped_budget"] + stats["ssdp_dropped_busy"] > 0
    assert stats["heap_peak"] < 56 * 1024
    assert len(search(pc, msearch_datagram("upnp:rootdevice", mx=1), wait=3)) <= 1
    assert_still_serves(pc, agent)


def test_control_points_discover_everything_on_first_contact(lan: Lan, agent: Agent) -> None:
    """What Home Assistant's SSDP scanner sends (ssdp:all, MX 4, to the group and to the
    broadcast address from one socket) and async-upnp-client's ssdp:all search both get
    the full answer: the allowance covers one."""
    ha = lan.add_host("ha")
    with ha.entered(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind((ha.ip, 0))
        sock.sendto(msearch_datagram("ssdp:all", mx=4), (SSDP_GROUP, SSDP_PORT))
        broadcast = msearch_datagram("ssdp:all", mx=4, host=f"255.255.255.255:{SSDP_PORT}")
        sock.sendto(broadcast, ("255.255.255.255", SSDP_PORT))
        usns = set()
        deadline = time.monotonic() + 7
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                reply = sock.recv(2048)
            except TimeoutError:
                break
            usns.add(re.search(rb"USN: (\S+)", reply).group(1))
    assert len(usns) == 21
    pc = lan.add_host("pc")
    result = upnp_client_search(pc, None)
    found = {
        json.loads(line)["USN"]
        for line in result.stdout.splitlines()
        if line.startswith("{") and agent.description_url in line
    }
    assert len(found) == 21, result.stdout + result.stderr
