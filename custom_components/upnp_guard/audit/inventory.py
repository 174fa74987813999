"""Inventory of every UPnP root device seen on the LAN.

Fed by Home Assistant's SSDP data (the ssdp component's public API), by our own active
search (search.py) and by the descriptions the checks read. Everything a device said is
cleaned and bounded (lan_text.clean) before it is kept; the number of devices is capped
(MAX_DEVICES: the least recently seen goes, counted in `dropped`), and so are the types a
device lists (MAX_TYPES).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from async_upnp_client.client import UpnpDevice
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from .. import lan_text
from ..transport import url_host
from .const import MAX_DEVICES, MAX_TYPES

# A URL is longer than a name: a description URL with a path and a port.
_MAX_URL = 512


def _bounded_types(values: Iterable[object]) -> list[str]:
    kept: list[str] = []
    for value in values:
        text = lan_text.clean(value)
        if text and text not in kept:
            kept.append(text)
            if len(kept) == MAX_TYPES:
                break
    return kept


def root_udn(usn_or_udn: str) -> str:
    """The UDN of a USN ("uuid:x::urn:..." -> "uuid:x")."""
    return usn_or_udn.split("::", 1)[0]


@dataclass(slots=True)
class InventoryDevice:
    """One root device as we know it (every string cleaned and bounded)."""

    udn: str
    address: str
    location: str
    server: str = ""
    friendly_name: str = ""
    device_type: str = ""
    device_types: list[str] = field(default_factory=list)
    service_types: list[str] = field(default_factory=list)
    manufacturer: str = ""
    model_name: str = ""
    model_number: str = ""
    firmware: str = ""
    presentation_url: str = ""
    first_seen: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_seen: datetime = field(default_factory=lambda: datetime.now(UTC))
    described: bool = False  # the description (and SCPDs) was read

    def as_dict(self) -> dict[str, Any]:
        """The report's view (JSON-ready)."""
        return {
            "udn": self.udn,
            "address": self.address,
            "location": self.location,
            "server": self.server,
            "friendly_name": self.friendly_name,
            "device_type": self.device_type,
            "device_types": list(self.device_types),
            "service_types": list(self.service_types),
            "manufacturer": self.manufacturer,
            "model_name": self.model_name,
            "model_number": self.model_number,
            "firmware": self.firmware,
            "presentation_url": self.presentation_url,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
        }


class Inventory:
    """The devices seen, by root UDN (bounded, see the module docstring)."""

    def __init__(self, max_devices: int = MAX_DEVICES) -> None:
        self._devices: dict[str, InventoryDevice] = {}
        self._max = max_devices
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._devices)

    def __iter__(self) -> Iterator[InventoryDevice]:
        return iter(list(self._devices.values()))

    def get(self, udn: str) -> InventoryDevice | None:
        """The device with this root UDN."""
        return self._devices.get(udn)

    def knows_location(self, location: str) -> bool:
        """Whether a device we keep has this description URL."""
        location = lan_text.clean(location, _MAX_URL)
        return any(device.location == location for device in self._devices.values())

    def _seen(self, udn: str, address: str, location: str, now: datetime) -> InventoryDevice:
        device = self._devices.get(udn)
        if device is None:
            if len(self._devices) >= self._max:
                oldest = min(self._devices.values(), key=lambda d: d.last_seen)
                del self._devices[oldest.udn]
                self.dropped += 1
            device = self._devices[udn] = InventoryDevice(udn, address, location, first_seen=now)
        device.last_seen = now
        if address:
            device.address = address
        if location:
            device.location = location
        return device

    def observe_headers(self, headers: Mapping[str, Any], now: datetime | None = None) -> None:
        """An SSDP search reply or announcement (async-upnp-client's decoded headers).

        Only the `upnp:rootdevice` line counts: a root device sends one for itself, and
        its embedded devices' lines (their own UDNs, the same location) are not devices
        of their own.
        """
        target = headers.get("st") or headers.get("nt") or ""
        if str(target).lower() != "upnp:rootdevice":
            return
        usn = lan_text.clean(headers.get("usn") or headers.get("USN"))
        location = lan_text.clean(headers.get("location") or headers.get("LOCATION"), _MAX_URL)
        if not usn.startswith("uuid:") or not location:
            return
        address = lan_text.clean(headers.get("_host")) or url_host(location)
        device = self._seen(root_udn(usn), address, location, now or datetime.now(UTC))
        if server := lan_text.clean(headers.get("server") or headers.get("SERVER")):
            device.server = server

    def observe_ssdp(self, info: SsdpServiceInfo, now: datetime | None = None) -> None:
        """Home Assistant's SSDP data of a device (its root description fields)."""
        upnp = info.upnp
        udn = lan_text.clean(upnp.get("UDN") or info.ssdp_udn or root_udn(info.ssdp_usn))
        location = lan_text.clean(info.ssdp_location, _MAX_URL)
        if not udn.startswith("uuid:") or not location:
            return
        address = lan_text.clean(info.ssdp_headers.get("_host")) or url_host(location)
        device = self._seen(udn, address, location, now or datetime.now(UTC))
        if server := lan_text.clean(info.ssdp_server):
            device.server = server
        if not device.described:
            device.friendly_name = lan_text.clean(upnp.get("friendlyName"))
            device.device_type = lan_text.clean(upnp.get("deviceType"))
            device.manufacturer = lan_text.clean(upnp.get("manufacturer"))
            device.model_name = lan_text.clean(upnp.get("modelName"))
            device.model_number = lan_text.clean(upnp.get("modelNumber"))
            device.presentation_url = lan_text.clean(upnp.get("presentationURL"), _MAX_URL)

    def observe_description(self, udn: str, described: UpnpDevice) -> None:
        """The device's description as parsed (with its embedded devices and services)."""
        device = self._devices.get(udn)
        if device is None:
            return
        info = described.device_info
        device.described = True
        device.friendly_name = lan_text.clean(info.friendly_name)
        device.device_type = lan_text.clean(info.device_type)
        device.manufacturer = lan_text.clean(info.manufacturer)
        device.model_name = lan_text.clean(info.model_name)
        device.model_number = lan_text.clean(info.model_number)
        device.presentation_url = lan_text.clean(info.presentation_url, _MAX_URL)
        device.firmware = lan_text.clean(_firmware(described))
        device.device_types = _bounded_types(d.device_type for d in described.all_devices)
        device.service_types = _bounded_types(s.service_type for s in described.all_services)

    def as_list(self) -> list[dict[str, Any]]:
        """Every device, for the report (ordered by address, then UDN)."""
        return [
            d.as_dict() for d in sorted(self._devices.values(), key=lambda d: (d.address, d.udn))
        ]


def _firmware(device: UpnpDevice) -> str:
    """A firmware version, when the description has one (UDA has no such field: some
    vendors add `firmwareVersion` or `softwareVersion` next to the standard ones)."""
    for tag in ("firmwareVersion", "softwareVersion"):
        for element in device.xml.iter():
            if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == tag:
                return element.text or ""
    return ""
