"""SSDP amplification of the agent: bytes it sends back / bytes sent to it, per source,
measured at the sender's sockets on the simulated LAN (32-bit frozen build, 64 KB heap).

Scenarios, each against a freshly started agent (no budget state carried over):

- single:  one 81-byte unicast `ssdp:all` (HOST = the agent), and one multicast one (MX 1)
- burst:   one host sends 100 `ssdp:all` within 1 s from one socket: multicast (MX 1),
           then unicast (answered at once)
- flood:   one host sends `ssdp:all` at 100/s for FLOOD_S seconds, from one socket
- spoof:   one host sends `ssdp:all` from SPOOFED on-subnet addresses for SPOOF_S seconds
           (what a spoofing attacker does); reported as the worst single source and in all

    PYTHONPATH=/repo python bench/firmware_amplification.py [flood seconds]   (default 20)

(in the sandbox, as root: scripts/test enters it; the LAN is network namespaces). Bounded:
at most 100 x FLOOD_S + 100 + SPOOFED x 10 x SPOOF_S datagrams in all.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import time
from collections.abc import Callable

from tests.firmware.e2e import msearch_datagram
from tests.lan import SSDP_GROUP, SSDP_PORT, Host, Lan
from tests.lan.agent import start_agent

DRAIN_S = 3.0  # replies arrive within MX (1 s) plus the agent's reply tick
BURST = 100
SPOOFED = 40
SPOOF_S = 5


class Source:
    """One UDP socket of a sender, with the bytes it sent and the replies it got."""

    def __init__(self, ip: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.setblocking(False)
        self.sent = 0
        self.received = 0
        self.replies = 0

    def send(self, datagram: bytes, target: tuple[str, int]) -> None:
        try:
            self.sock.sendto(datagram, target)
        except BlockingIOError:
            return
        self.sent += len(datagram)

    def drain(self) -> None:
        try:
            while True:
                self.received += len(self.sock.recv(2048))
                self.replies += 1
        except BlockingIOError:
            pass

    def ratio(self) -> float:
        return self.received / self.sent if self.sent else 0.0


def run(name: str, scenario: Callable[[Lan, Host, str], list[Source]]) -> None:
    with Lan() as lan:
        agent = start_agent(lan, log_level="warning")
        host = lan.add_host("sender")
        with host.entered():
            sources = scenario(lan, host, agent.ip)
            end = time.monotonic() + DRAIN_S
            while time.monotonic() < end:
                for source in sources:
                    source.drain()
                time.sleep(0.02)
            for source in sources:
                source.sock.close()
        stats = agent.stats()
    sent = sum(s.sent for s in sources)
    received = sum(s.received for s in sources)
    worst = max(sources, key=Source.ratio)
    print(
        f"{name:22} in {sent:7} B  out {received:7} B ({sum(s.replies for s in sources):4} "
        f"replies)  out/in {received / sent:7.3f}  worst source {worst.ratio():7.3f}  "
        f"[agent: dropped budget {stats['ssdp_dropped_budget']} busy "
        f"{stats['ssdp_dropped_busy']}, heap peak {stats['heap_peak']}]"
    )


def single_unicast(lan: Lan, host: Host, agent_ip: str) -> list[Source]:
    source = Source(host.ip)
    source.send(
        msearch_datagram("ssdp:all", mx=None, host=f"{agent_ip}:{SSDP_PORT}"), (agent_ip, SSDP_PORT)
    )
    return [source]


def single_multicast(lan: Lan, host: Host, agent_ip: str) -> list[Source]:
    source = Source(host.ip)
    source.send(msearch_datagram("ssdp:all", mx=1), (SSDP_GROUP, SSDP_PORT))
    return [source]


def burst(unicast: bool) -> Callable[[Lan, Host, str], list[Source]]:
    def scenario(lan: Lan, host: Host, agent_ip: str) -> list[Source]:
        source = Source(host.ip)
        if unicast:
            datagram = msearch_datagram("ssdp:all", mx=None, host=f"{agent_ip}:{SSDP_PORT}")
            target = (agent_ip, SSDP_PORT)
        else:
            datagram, target = msearch_datagram("ssdp:all", mx=1), (SSDP_GROUP, SSDP_PORT)
        started = time.monotonic()
        for i in range(BURST):
            source.send(datagram, target)
            source.drain()
            time.sleep(max(0.0, started + (i + 1) / BURST - time.monotonic()))
        return [source]

    return scenario


def flood(seconds: int) -> Callable[[Lan, Host, str], list[Source]]:
    def scenario(lan: Lan, host: Host, agent_ip: str) -> list[Source]:
        source = Source(host.ip)
        datagram = msearch_datagram("ssdp:all", mx=1)
        started = time.monotonic()
        for i in range(100 * seconds):
            source.send(datagram, (SSDP_GROUP, SSDP_PORT))
            source.drain()
            time.sleep(max(0.0, started + (i + 1) / 100 - time.monotonic()))
        return [source]

    return scenario


def spoof(lan: Lan, host: Host, agent_ip: str) -> list[Source]:
    net = ipaddress.ip_network(lan.lan_net)
    addresses = [str(net.network_address + 200 + i) for i in range(SPOOFED)]
    for address in addresses:
        host.run("ip", "addr", "add", f"{address}/32", "dev", "eth0")
    sources = [Source(address) for address in addresses]
    datagram = msearch_datagram("ssdp:all", mx=1)
    started = time.monotonic()
    for i in range(10 * SPOOF_S):
        for source in sources:
            source.send(datagram, (SSDP_GROUP, SSDP_PORT))
            source.drain()
        time.sleep(max(0.0, started + (i + 1) / 10 - time.monotonic()))
    return sources


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    run("single unicast", single_unicast)
    run("single multicast", single_multicast)
    run(f"burst {BURST} in 1 s", burst(unicast=False))
    run(f"burst {BURST} unicast 1 s", burst(unicast=True))
    run(f"flood {seconds} s at 100/s", flood(seconds))
    run(f"spoof {SPOOFED} x 10/s {SPOOF_S} s", spoof)


if __name__ == "__main__":
    main()
