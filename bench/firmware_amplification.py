"""SSDP amplification under an ssdp:all flood: bytes the agent sends back / bytes sent to
it, measured at the attacker's sockets (bounded: SOURCES x ROUNDS datagrams).

    PYTHONPATH=/repo python bench/firmware_amplification.py [rounds]   (default 50)
"""

from __future__ import annotations

import socket
import sys
import time

from bench.firmware_common import Lan, start_agent
from tests.firmware.e2e import msearch_datagram
from tests.lan import SSDP_GROUP, SSDP_PORT

SOURCES = 20
INTERVAL_S = 0.05


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with Lan() as lan:
        agent = start_agent(lan, log_level="warning")
        attacker = lan.add_host("attacker")
        sent = received = replies = 0
        datagram = msearch_datagram("ssdp:all", mx=1)
        with attacker.entered():
            socks = []
            for _ in range(SOURCES):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.bind((attacker.ip, 0))
                sock.setblocking(False)
                socks.append(sock)

            def drain() -> None:
                nonlocal received, replies
                for sock in socks:
                    try:
                        while True:
                            received += len(sock.recv(2048))
                            replies += 1
                    except BlockingIOError:
                        pass

            started = time.perf_counter()
            for _ in range(rounds):
                for sock in socks:
                    sock.sendto(datagram, (SSDP_GROUP, SSDP_PORT))
                    sent += len(datagram)
                drain()
                time.sleep(INTERVAL_S)
            duration = time.perf_counter() - started
            end = time.monotonic() + 3
            while time.monotonic() < end:
                drain()
                time.sleep(0.05)
            for sock in socks:
                sock.close()
        stats = agent.stats()
        print(
            f"flood {SOURCES * rounds} M-SEARCH ssdp:all in {duration:.1f} s: in {sent} B, "
            f"out {received} B ({replies} replies), amplification {received / sent:.3f}; "
            f"agent counters in {stats['ssdp_bytes_in']} out {stats['ssdp_bytes_out']} "
            f"dropped budget {stats['ssdp_dropped_budget']} busy {stats['ssdp_dropped_busy']}"
        )


if __name__ == "__main__":
    main()
