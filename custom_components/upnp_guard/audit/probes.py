"""Active probes (opt-in in the audit's options, docs/audit.md): each sends something a
device acts on, so each is bounded, stays on the LAN and is undone.

- `async_probe_amplification`: one unicast ssdp:all M-SEARCH to the device; the bytes and
  replies it sends back against what UDA needs for its devices and services (UG-SSDP-001).
- `async_probe_off_subnet`: one unicast upnp:rootdevice M-SEARCH from Home Assistant's
  address on another LAN network than the device's; an answer is UG-SSDP-002.
- `async_probe_secure_mode`: AddPortMapping of a high port to *another* LAN address; a
  router in secure mode refuses (UPnP IGD: a host maps only to itself). Accepted, the
  mapping is deleted at once and its absence verified (UG-ROUTER-003).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice, UpnpService
from async_upnp_client.exceptions import UpnpActionError, UpnpError

from ..lan_text import get_logger
from ..router.const import CONNECTION_SERVICE_TYPES
from ..transport import ip_literal, is_lan_host
from .const import (
    AMPLIFICATION_SLACK,
    AMPLIFICATION_WAIT_S,
    MAX_PROBE_REPLY_BYTES,
    OFF_SUBNET_MX,
    OFF_SUBNET_WAIT_S,
    PROBE_DESCRIPTION,
    PROBE_LEASE_S,
    PROBE_PORT_RANGE,
    UDA_REPLY_BYTES,
)
from .inventory import InventoryDevice

_LOGGER = get_logger(__name__)
_ERRORS = (UpnpError, ClientError, OSError, TimeoutError)


@dataclass(slots=True)
class AmplificationResult:
    """What one ssdp:all to one device brought back."""

    request_bytes: int
    reply_bytes: int
    replies: int
    expected_replies: int

    @property
    def ratio(self) -> float:
        return self.reply_bytes / self.request_bytes

    @property
    def excessive(self) -> bool:
        """Far above what UDA needs (AMPLIFICATION_SLACK times its replies or bytes)."""
        return self.replies > AMPLIFICATION_SLACK * self.expected_replies or (
            self.reply_bytes > AMPLIFICATION_SLACK * self.expected_replies * UDA_REPLY_BYTES
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_bytes": self.request_bytes,
            "reply_bytes": self.reply_bytes,
            "replies": self.replies,
            "expected_replies": self.expected_replies,
            "ratio": round(self.ratio, 1),
        }


def expected_replies(device: InventoryDevice) -> int:
    """Replies UDA 1.1 (1.3.3) asks of a root device for ssdp:all: 3 for the root, 2 per
    embedded device, 1 per distinct service type."""
    return 3 + 2 * max(0, len(device.device_types) - 1) + len(set(device.service_types))


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, source: str) -> None:
        self.source = source
        self.bytes = 0
        self.replies = 0

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if addr[0] == self.source and self.bytes <= MAX_PROBE_REPLY_BYTES:
            self.bytes += len(data)
            self.replies += 1


async def _unicast_search(
    source_ip: str, device_ip: str, request: bytes, wait_s: float
) -> _Collector:
    """Send `request` once from `source_ip` to the device's port 1900; what the device sent
    back to that socket within `wait_s` (bounded count)."""
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(
        lambda: _Collector(device_ip), local_addr=(source_ip, 0), family=socket.AF_INET
    )
    try:
        transport.sendto(request, (device_ip, 1900))
        await asyncio.sleep(wait_s)
    finally:
        transport.close()
    return collector


def _probeable(address: str) -> bool:
    """Only an IPv4 LAN address (RFC 1918, link-local) of a device is ever probed."""
    return is_lan_host(address) and ":" not in address


async def async_probe_amplification(
    local_ip: str, device: InventoryDevice, wait_s: float = AMPLIFICATION_WAIT_S
) -> AmplificationResult | None:
    """Send one unicast ssdp:all from `local_ip` to the device; None if not on the LAN, or
    when the search could not be sent (the run goes on with the other devices)."""
    if not _probeable(device.address):
        return None
    request = (
        "M-SEARCH * HTTP/1.1\r\n"
        f"HOST: {device.address}:1900\r\n"
        'MAN: "ssdp:discover"\r\n'
        "ST: ssdp:all\r\n\r\n"
    ).encode()
    try:
        collector = await _unicast_search(local_ip, device.address, request, wait_s)
    except OSError as err:  # our address went away mid-run, or no route: not measured
        _LOGGER.debug("Audit: no search from %s to %s: %s", local_ip, device.address, err)
        return None
    return AmplificationResult(
        len(request), collector.bytes, collector.replies, expected_replies(device)
    )


def outside_source(interfaces: list[IPv4Interface], device_ip: str) -> IPv4Interface | None:
    """Home Assistant's LAN address on another network than the device's (UG-SSDP-002),
    None if it has none. Link-local addresses do not count: 169.254/16 is on the device's
    own link by definition (UDA's Auto-IP), a reply to one says nothing about other
    networks."""
    address = ip_literal(device_ip)
    if not isinstance(address, IPv4Address):
        return None
    return next(
        (
            i
            for i in interfaces
            if address not in i.network and not i.ip.is_link_local and is_lan_host(str(i.ip))
        ),
        None,
    )


@dataclass(slots=True)
class OffSubnetResult:
    """What one search from another network brought back."""

    source: str  # our address it was sent from
    replies: int
    reply_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "replies": self.replies, "reply_bytes": self.reply_bytes}


async def async_probe_off_subnet(
    outside: IPv4Interface, device: InventoryDevice, wait_s: float = OFF_SUBNET_WAIT_S
) -> OffSubnetResult | None:
    """Send one unicast upnp:rootdevice M-SEARCH from `outside` (our address on another
    network) to the device: UDA 1.1 expects searches from the device's own network, and a
    device that answers this one answers searches from outside its subnet. None: not
    probed (not a LAN IPv4 address, or `outside` on the device's network)."""
    if not _probeable(device.address) or outside_source([outside], device.address) is None:
        return None
    request = (
        "M-SEARCH * HTTP/1.1\r\n"
        f"HOST: {device.address}:1900\r\n"
        'MAN: "ssdp:discover"\r\n'
        f"MX: {OFF_SUBNET_MX}\r\n"
        "ST: upnp:rootdevice\r\n\r\n"
    ).encode()
    try:
        collector = await _unicast_search(str(outside.ip), device.address, request, wait_s)
    except OSError as err:  # the address went away, or no route: not tried
        _LOGGER.debug("Audit: no search from %s to %s: %s", outside.ip, device.address, err)
        return None
    return OffSubnetResult(str(outside.ip), collector.replies, collector.bytes)


def _wan_service(described: UpnpDevice) -> UpnpService | None:
    for service in described.all_services:
        if service.service_type in CONNECTION_SERVICE_TYPES and all(
            service.has_action(name)
            for name in ("AddPortMapping", "DeletePortMapping", "GetSpecificPortMappingEntry")
        ):
            return service
    return None


def other_lan_address(local: IPv4Interface, avoid: set[str]) -> str | None:
    """An address of our own LAN that is not ours nor in `avoid`: the last host of the
    network first (rarely a device's), going down."""
    hosts = list(local.network.hosts())[::-1][:16]
    return next((str(h) for h in hosts if str(h) != str(local.ip) and str(h) not in avoid), None)


async def _mapping_exists(service: UpnpService, port: int) -> bool:
    try:
        await service.action("GetSpecificPortMappingEntry").async_call(
            NewRemoteHost="", NewExternalPort=port, NewProtocol="TCP"
        )
    except UpnpActionError:  # 714 NoSuchEntryInArray (or any refusal: not ours to see)
        return False
    return True


@dataclass(slots=True)
class SecureModeResult:
    """What the secure-mode probe saw."""

    accepted: bool  # the router mapped a port to another host for us
    removed: bool  # ... and it is gone again (verified)
    port: int
    internal_client: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "removed": self.removed,
            "external_port": self.port,
            "internal_client": self.internal_client,
        }


async def async_probe_secure_mode(described: UpnpDevice, other: str) -> SecureModeResult | None:
    """Map a free high port to `other` and remove it at once (None: no way to try)."""
    service = _wan_service(described)
    if service is None:
        return None
    port = 0
    for _ in range(8):  # a free port: never touch a mapping that exists
        candidate = random.randint(*PROBE_PORT_RANGE)  # noqa: S311 (not a secret)
        try:
            if not await _mapping_exists(service, candidate):
                port = candidate
                break
        except _ERRORS:
            return None
    if not port:
        return None
    try:
        await service.action("AddPortMapping").async_call(
            NewRemoteHost="",
            NewExternalPort=port,
            NewProtocol="TCP",
            NewInternalPort=port,
            NewInternalClient=other,
            NewEnabled=True,
            NewPortMappingDescription=PROBE_DESCRIPTION,
            NewLeaseDuration=PROBE_LEASE_S,
        )
    except UpnpActionError:  # a SOAP fault: refused (secure mode, or a permission rule)
        return SecureModeResult(accepted=False, removed=True, port=port, internal_client=other)
    except _ERRORS:
        # No answer: it may have been added all the same. Look, and remove it if so.
        with contextlib.suppress(*_ERRORS):
            if not await _mapping_exists(service, port):
                return None
    _LOGGER.warning("Audit: the router mapped port %s to %s for us; removing it", port, other)
    try:
        await service.action("DeletePortMapping").async_call(
            NewRemoteHost="", NewExternalPort=port, NewProtocol="TCP"
        )
    except _ERRORS as err:
        _LOGGER.warning("Audit: removing the probe mapping %s failed: %r", port, err)
    try:
        removed = not await _mapping_exists(service, port)
    except _ERRORS:
        removed = False
    return SecureModeResult(accepted=True, removed=removed, port=port, internal_client=other)
