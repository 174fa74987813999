"""Helpers for the firmware's end-to-end tests: raw HTTP and SSDP from a LAN host.

The calling thread enters the host's namespace (Host.entered), so the sockets opened here
exist only on the simulated LAN.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import pytest_socket

from tests.lan import SSDP_GROUP, SSDP_PORT, UPNP_CLIENT, Host, Lan
from tests.lan.agent import Agent

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware"))
from upnpguard import auth

IO_TIMEOUT = 15.0
AGENT_DEVICE = "urn:upnp-guard-org:device:Agent:1"
SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"


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


def set_target(agent: Agent, desc: str, value: int | str) -> bytes:
    """SwitchPower SetTarget of the first switch in `desc` to `value` (0/1, or anything)."""
    return soap(agent, desc, SWITCH_POWER, "SetTarget", f"<newTargetValue>{value}</newTargetValue>")


def subscribe(agent: Agent, path: str, callback: str) -> bytes:
    """A GENA SUBSCRIBE (5 minutes) of `callback` (`<http://...>`) to the events at `path`."""
    return request(
        agent,
        "SUBSCRIBE",
        path,
        {"NT": "upnp:event", "CALLBACK": callback, "TIMEOUT": "Second-300"},
    )


def sid_of(response: bytes) -> str:
    """The SID header of a SUBSCRIBE's answer or of a NOTIFY."""
    match = re.search(rb"SID: (\S+)", response)
    assert match, response[:300]
    return match.group(1).decode()


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def control_load(
    agent: Agent,
    clients: Sequence[Host],
    desc: str,
    *,
    rounds: int,
    presses: int,
    sign_control: Callable[[bytes], bytes] = lambda data: data,
) -> list[str]:
    """One control point per host of `clients` at once, `rounds` requests each alternating a
    description GET and a SwitchPower SetTarget (passed through `sign_control`), while the
    doorbell is pressed `presses` times. Returns what went wrong: every request answered
    other than 200, or not at all (an empty answer, a refused or reset connection, or any
    other error: a client thread never dies unreported)."""
    failures: list[str] = []

    def client(index: int) -> None:
        for round_ in range(rounds):
            try:
                if (round_ + index) % 2:
                    data = request(agent, "GET", "/desc.xml")
                else:
                    data = sign_control(set_target(agent, desc, round_ % 2))
                code = status(exchange(clients[index], agent, data))
            except Exception as err:  # status() asserts on an empty answer
                failures.append(f"client {index}: {err!r}")
                continue
            if code != 200:
                failures.append(f"client {index}: {code}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for _ in range(presses):
        agent.press_button("doorbell")
    for thread in threads:
        thread.join(120)
    return failures


def upnp_client_search(
    host: Host, target: str | None = AGENT_DEVICE
) -> subprocess.CompletedProcess[str]:
    """async-upnp-client's `search` from `host` for 6 s, for `target` (None: the tool's
    default, every device)."""
    searching = ["--search_target", target] if target else []
    return host.run(
        *UPNP_CLIENT, "--timeout", "6", "search", "--bind", host.ip, *searching, timeout=60
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
def threaded_server(
    host: Host, port: int, serve: Callable[[socket.socket, threading.Event], None], backlog: int
) -> Iterator[None]:
    """A TCP server listening on `host`: `serve(server, stop)` runs in a thread until the
    block ends; then `stop` is set, the thread joined and the socket closed."""
    with host.entered():
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host.ip, port))
        server.listen(backlog)
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(server, stop), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        server.close()


@contextmanager
def notify_server(host: Host, port: int = 8123) -> Iterator[list[bytes]]:
    """A minimal GENA event receiver on `host`; yields the list of NOTIFYs received."""
    received: list[bytes] = []

    def serve(server: socket.socket, stop: threading.Event) -> None:
        server.settimeout(0.2)
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

    with threaded_server(host, port, serve, backlog=8):
        yield received
