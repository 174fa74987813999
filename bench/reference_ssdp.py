"""SSDP bytes out / bytes in side by side: our agent, miniupnpd and the stock
async-upnp-client light answering the same searches, measured at the sender's socket.

    PYTHONPATH=/repo python bench/reference_ssdp.py [flood seconds]    (default 10)

(in the sandbox as root: `scripts/shell python bench/reference_ssdp.py`.) Each server
runs alone on a fresh LAN for each scenario (no rate budget carried over, and a
multicast search reaches only it):

- unicast:   one `ssdp:all` M-SEARCH sent to the server's address (HOST = it, no MX)
- flood:     `ssdp:all` at 100/s for the given seconds from one socket, unicast
- mflood:    the same flood to the multicast group (MX 1)

Bounded: at most 1 + 2 x 100 x seconds datagrams per server; replies are collected for
DRAIN_S after the last one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from bench.firmware_amplification import DRAIN_S, Source
from bench.reference_common import Server, start_servers
from tests.firmware.e2e import msearch_datagram
from tests.lan import SSDP_GROUP, SSDP_PORT, Lan

RATE = 100
SERVERS = ("agent", "miniupnpd", "stock")
Scenario = Callable[[Source, Server], None]


def unicast(source: Source, server: Server) -> None:
    datagram = msearch_datagram("ssdp:all", mx=None, host=f"{server.ip}:{SSDP_PORT}")
    source.send(datagram, (server.ip, SSDP_PORT))


def flood(seconds: int, *, multicast: bool) -> Scenario:
    def scenario(source: Source, server: Server) -> None:
        if multicast:
            datagram, target = msearch_datagram("ssdp:all", mx=1), (SSDP_GROUP, SSDP_PORT)
        else:
            datagram = msearch_datagram("ssdp:all", mx=None, host=f"{server.ip}:{SSDP_PORT}")
            target = (server.ip, SSDP_PORT)
        started = time.monotonic()
        for i in range(RATE * seconds):
            source.send(datagram, target)
            source.drain()
            time.sleep(max(0.0, started + (i + 1) / RATE - time.monotonic()))

    return scenario


def measure(name: str, scenario: Scenario) -> Source:
    with Lan() as lan:
        [server] = start_servers(lan, (name,))
        sender = lan.add_host("sender")
        time.sleep(1.0)  # past the start-up announcements
        with sender.entered():
            source = Source(sender.ip)
            scenario(source, server)
            end = time.monotonic() + DRAIN_S
            while time.monotonic() < end:
                source.drain()
                time.sleep(0.02)
            source.sock.close()
    return source


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    scenarios: list[tuple[str, Scenario]] = [
        ("one unicast ssdp:all", unicast),
        (f"unicast flood {RATE}/s {seconds} s", flood(seconds, multicast=False)),
        (f"multicast flood {RATE}/s {seconds} s", flood(seconds, multicast=True)),
    ]
    for title, scenario in scenarios:
        for name in SERVERS:
            source = measure(name, scenario)
            print(
                f"{title:28} {name:9} in {source.sent:7} B  out {source.received:8} B "
                f"({source.replies:5} replies)  out/in {source.ratio():8.3f}"
            )


if __name__ == "__main__":
    main()
