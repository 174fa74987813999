"""Helpers for the firmware's end-to-end tests: raw HTTP and SSDP from a LAN host.

The calling thread enters the host's namespace (Host.entered), so the sockets opened here
exist only on the simulated LAN.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import pytest_socket

from tests.lan import SSDP_GROUP, SSDP_PORT, Host, Lan
from tests.lan.agent import Agent

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware"))
from upnpguard import auth

IO_TIMEOUT = 15.0


@pytest.fixture
def lan_sockets(lan: Lan, socket_enabled: None) -> Generator[None]:
    """Let this test's own sockets reach the simulated networks (and nothing else)."""
    pytest_socket.socket_allow_hosts([str(lan.lan_net), str(lan.wan_net)], allow_unix_socket=True)
    return


def exchange(
    host: Host, agent: Agent, data: bytes, *, pause: float = 0.0, timeout: float = IO_TIMEOUT
) -> bytes:
    """Send `data` (in two halves `pause` seconds apart if given) and read until close."""
    with host.entered(), socket.create_connection((agent.ip, agent.port), timeout) as sock:
        if pause:
            sock.sendall(data[: len(data) // 2])
            time.sleep(pause)
            with_rest = data[len(data) // 2 :]
            with contextlib.suppress(OSError):
                sock.sendall(with_rest)
        else:
            sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(4096):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def status(response: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
    assert match, response[:200]
    return int(match.group(1))


def request(
    agent: Agent, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"HOST: {agent.ip}:{agent.port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"CONTENT-LENGTH: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sign(raw: bytes, key: bytes, boot: int, counter: int) -> bytes:
    """`raw` (one request as `request` or `soap` builds it) with its UG-AUTH header, as
    Home Assistant signs for a paired agent (docs/protocol.md)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    method, target, _ = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().upper()] = value.strip()
    value = auth.request_header(auth.Key(key), method, target, headers, boot, counter, body)
    return (head.decode() + f"\r\nUG-AUTH: {value}\r\n\r\n").encode() + body


def description(host: Host, agent: Agent) -> str:
    response = exchange(host, agent, request(agent, "GET", "/desc.xml"))
    assert status(response) == 200, response[:300]
    return response.split(b"\r\n\r\n", 1)[1].decode()


def assert_still_serves(host: Host, agent: Agent) -> None:
    """The agent answers a normal request after an attack."""
    text = description(host, agent)
    assert "<deviceType>urn:upnp-guard-org:device:Agent:1</deviceType>" in text


def url_of(desc: str, tag: str, service: str) -> str:
    paths = re.findall(rf"<{tag}>([^<]*/{service})</{tag}>", desc)
    assert paths, desc
    return paths[0]


def soap(agent: Agent, desc: str, service_type: str, action: str, args: str = "") -> bytes:
    name = service_type.split(":")[-2]
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action} xmlns:u="{service_type}">{args}</u:{action}></s:Body></s:Envelope>'
    ).encode()
    return request(
        agent,
        "POST",
        url_of(desc, "controlURL", name),
        {"CONTENT-TYPE": 'text/xml; charset="utf-8"', "SOAPACTION": f'"{service_type}#{action}"'},
        body,
    )


def msearch_datagram(
    st: str,
    *,
    mx: int | None = 1,
    man: str = '"ssdp:discover"',
    host: str = f"{SSDP_GROUP}:{SSDP_PORT}",
) -> bytes:
    lines = ["M-SEARCH * HTTP/1.1", f"HOST: {host}", f"MAN: {man}", f"ST: {st}"]
    if mx is not None:
        lines.append(f"MX: {mx}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def search(
    host: Host,
    datagram: bytes,
    *,
    target: str = SSDP_GROUP,
    source_ip: str | None = None,
    wait: float = 7.0,
    expect: int | None = None,
) -> list[bytes]:
    """Send one M-SEARCH and collect the replies arriving within `wait` seconds (or until
    `expect` replies arrived)."""
    replies = []
    with host.entered(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source_ip or host.ip, 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.sendto(datagram, (target, SSDP_PORT))
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(2048)
            except TimeoutError:
                break
            if data.startswith(b"HTTP/1.1 200 OK"):
                replies.append(data)
                if expect is not None and len(replies) >= expect:
                    break
    return replies


@contextmanager
def notify_server(host: Host, port: int = 8123) -> Iterator[list[bytes]]:
    """A minimal GENA event receiver on `host`; yields the list of NOTIFYs received."""
    received: list[bytes] = []
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
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"CONTENT-LENGTH: (\d+)", head, re.I).group(1))
                while len(body) < length:
                    body += conn.recv(4096)
                received.append(head + b"\r\n\r\n" + body)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        stop.set()
        thread.join(5)
        server.close()
