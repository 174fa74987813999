"""An SSDP flood for the end-to-end tests, run as its own process on an attacker host (so
the test's own client is not slowed down by it): `ssdp:all` M-SEARCHes sent unicast to the
agent, from each source address in turn, RATE datagrams a second in all (0: as fast as
the host can), for at most SECONDS and at most COUNT datagrams (bounded), then "done <sent>".

    python tests/firmware/ssdp_flood.py AGENT_IP SECONDS COUNT RATE [SOURCE_IP...]
"""

from __future__ import annotations

import socket
import sys
import time


def main() -> None:
    target, seconds, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    rate = float(sys.argv[4])
    datagram = (
        b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        b'MAN: "ssdp:discover"\r\nST: ssdp:all\r\nMX: 1\r\n\r\n'
    )
    socks = []
    for source in sys.argv[5:] or [""]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source, 0))
        socks.append(sock)
    print("flooding", flush=True)
    sent = 0
    started = time.monotonic()
    end = started + seconds
    while sent < count and time.monotonic() < end:
        for sock in socks:
            try:
                sock.sendto(datagram, (target, 1900))
                sent += 1
            except OSError:  # a full send queue: the wire is saturated, keep going
                pass
        if rate:
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))
    print("done", sent, flush=True)


if __name__ == "__main__":
    main()
