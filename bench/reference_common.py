"""Shared pieces of the side-by-side benchmarks: the three UPnP servers on one LAN, and
one HTTP/SOAP client used unchanged against each of them.

- agent:     our firmware (32-bit frozen build, 64 KB heap), open mode, DEFAULT_CONFIG
- miniupnpd: the router's C daemon (IGD:2, secure mode, nftables), as tests/lan starts it
- stock:     the third-party DimmableLight:1 built from async-upnp-client's server
             classes (tests/integration/lan_dimmable_light.py), under CPython

Run inside the sandbox as root (the LAN is network namespaces); see the benches.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.firmware import e2e
from tests.lan import Host, Lan
from tests.lan.agent import start_agent

IO_TIMEOUT_S = 10.0
STOCK_SCRIPT = Path(__file__).resolve().parents[1] / "tests/integration/lan_dimmable_light.py"
STOCK_PORT = 49152
STOCK_UDN = "uuid:5d0b6c7e-1f2a-4b3c-8d4e-acme0000{:04d}"
STOCK_READY_S = 30.0
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
WAN_IP = "urn:schemas-upnp-org:service:WANIPConnection:2"


@dataclass(frozen=True)
class Server:
    """One UPnP server on the LAN: where it listens and the SOAP query it is asked."""

    name: str
    host: Host
    port: int
    description_path: str
    service_type: str
    action: str
    control_path: str = ""

    @property
    def ip(self) -> str:
        return self.host.ip


def start_stock(lan: Lan, name: str, number: int = 1) -> Host:
    """A stock DimmableLight on a new host (UDN made unique by `number`), ready."""
    host = lan.add_host(name)
    proc = host.start(
        sys.executable,
        str(STOCK_SCRIPT),
        host.ip,
        str(STOCK_PORT),
        STOCK_UDN.format(number),
        "1",
        label="stock",
    )
    proc.wait_for_output(r"ready", timeout=STOCK_READY_S)
    return host


def start_servers(
    lan: Lan, which: tuple[str, ...] = ("agent", "miniupnpd", "stock")
) -> list[Server]:
    """Start the servers named in `which` on `lan` (each on its own host)."""
    servers = []
    for name in which:
        if name == "agent":
            agent = start_agent(lan, "agent", log_level="warning")
            servers.append(Server(name, agent.host, agent.port, "/desc.xml", SWITCH, "GetTarget"))
        elif name == "miniupnpd":
            router = lan.add_router()
            router.start_miniupnpd(secure_mode=True)
            servers.append(
                Server(
                    name, router, router.http_port, "/rootDesc.xml", WAN_IP, "GetExternalIPAddress"
                )
            )
        elif name == "stock":
            host = start_stock(lan, "stock")
            servers.append(Server(name, host, STOCK_PORT, "/device.xml", SWITCH, "GetTarget"))
        else:
            raise ValueError(name)
    return servers


@dataclass(frozen=True)
class _Address:
    ip: str
    port: int


def exchange(client: Host, ip: str, port: int, data: bytes) -> bytes:
    """One request on a fresh connection (every server here closes after a response, or
    is asked to), read until the server closes: the firmware tests' exchange
    (tests/firmware/e2e.py), which reads only the `ip` and `port` of the agent it is
    given, aimed at any server's address."""
    return e2e.exchange(client, _Address(ip, port), data, timeout=IO_TIMEOUT_S)


def status(response: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    return int(match.group(1)) if match else 0


def get(client: Host, server: Server, path: str) -> str:
    raw = (
        f"GET {path} HTTP/1.1\r\nHOST: {server.ip}:{server.port}\r\nCONNECTION: close\r\n\r\n"
    ).encode()
    response = exchange(client, server.ip, server.port, raw)
    if status(response) != 200:
        raise RuntimeError(f"{server.name}: GET {path} -> {response[:200]!r}")
    return response.partition(b"\r\n\r\n")[2].decode(errors="replace")


def resolve(client: Host, server: Server) -> Server:
    """`server` with the control URL its description gives for its service type."""
    desc = get(client, server, server.description_path)
    pattern = re.escape(server.service_type) + r"</serviceType>.*?<controlURL>([^<]+)</controlURL>"
    match = re.search(pattern, desc, re.S)
    if match is None:
        raise RuntimeError(f"{server.name}: no control URL for {server.service_type}")
    return dataclasses.replace(server, control_path=match.group(1))


def soap_request(server: Server) -> bytes:
    """The same SOAP request shape for every server: only the action and URL differ."""
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{server.action} xmlns:u="{server.service_type}"></u:{server.action}>'
        "</s:Body></s:Envelope>"
    ).encode()
    head = (
        f"POST {server.control_path} HTTP/1.1\r\nHOST: {server.ip}:{server.port}\r\n"
        'CONTENT-TYPE: text/xml; charset="utf-8"\r\n'
        f'SOAPACTION: "{server.service_type}#{server.action}"\r\n'
        f"CONNECTION: close\r\nCONTENT-LENGTH: {len(body)}\r\n\r\n"
    )
    return head.encode() + body
