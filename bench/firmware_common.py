"""Shared pieces of the firmware benchmarks (run inside the sandbox as root):

PYTHONPATH=/repo python bench/firmware_heap.py
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.firmware.e2e import description, exchange, request, soap, status, url_of
from tests.lan import Host, Lan
from tests.lan.agent import Agent, start_agent

__all__ = [
    "Agent",
    "Host",
    "Lan",
    "description",
    "exchange",
    "notify_sink",
    "request",
    "soap",
    "start_agent",
    "status",
    "url_of",
]


@contextmanager
def notify_sink(host: Host, port: int) -> Iterator[list[int]]:
    """Accept NOTIFYs on host:port, answer 200, count them."""
    count = [0]
    with host.entered():
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host.ip, port))
        server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"</e:propertyset>" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    count[0] += 1
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield count
    finally:
        stop.set()
        thread.join(5)
        server.close()


def sid_of(response: bytes) -> str:
    match = re.search(rb"SID: (\S+)", response)
    assert match, response
    return match.group(1).decode()
