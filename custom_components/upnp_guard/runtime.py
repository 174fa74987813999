"""Runtime data kept on a UPnP Guard config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.client_factory import UpnpFactory
from async_upnp_client.exceptions import UpnpError
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from .const import CONF_LOCATION, CONF_TYPED_HOST, DOMAIN
from .lan_text import clean, markdown
from .transport import device_requester, url_host


@dataclass(slots=True)
class RuntimeData:
    """What a loaded entry holds: the device as described by its description XML."""

    device: UpnpDevice


type UpnpGuardConfigEntry = ConfigEntry[RuntimeData]


async def async_load_device(hass: HomeAssistant, location: str) -> UpnpDevice:
    """Fetch and parse a device description (raises UpnpError and aiohttp errors)."""
    factory = UpnpFactory(device_requester(hass), non_strict=True)
    return await factory.async_create_device(location)


async def async_connect(hass: HomeAssistant, entry: UpnpGuardConfigEntry) -> RuntimeData:
    """Load the entry's device; not ready while it cannot be reached."""
    location: str = entry.data[CONF_LOCATION]
    trust_typed_host(hass, entry)
    try:
        device = await async_load_device(hass, location)
    except (UpnpError, ClientError, OSError, TimeoutError) as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="device_unreachable",
            translation_placeholders={"location": location},
        ) from err
    async_check_identity(hass, entry, device)
    return RuntimeData(device=device)


def other_device_issue_id(entry_id: str) -> str:
    """The repair issue of an entry whose address now answers as another device."""
    return f"other_device_{entry_id}"


def async_check_identity(hass: HomeAssistant, entry: ConfigEntry[Any], device: UpnpDevice) -> None:
    """The device at the stored location must be the entry's (its UDN, the unique id).

    DHCP may give the address to another UPnP device: setting the entry up against it
    would control (or audit) the wrong device, and stale-device cleanup would delete the
    real one's devices and entities. So setup waits (ConfigEntryNotReady: Home Assistant
    retries) with an `other_device` issue, before anything is registered or removed; the
    issue goes when the right device answers again. An entry without a unique id (none
    is made by our flows) has nothing to compare with.
    """
    issue_id = other_device_issue_id(entry.entry_id)
    expected = entry.unique_id
    if expected is None or device.udn == expected:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    location = str(entry.data[CONF_LOCATION])
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="other_device",
        translation_placeholders={
            "name": markdown(entry.title),
            "location": markdown(url_host(location)),
            "found": markdown(device.udn),
            "expected": markdown(expected),
        },
    )
    raise ConfigEntryNotReady(
        translation_domain=DOMAIN,
        translation_key="other_device",
        translation_placeholders={
            "location": clean(location),
            "found": clean(device.udn),
            "expected": clean(expected),
        },
    )


def trust_typed_host(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """An entry made from a URL the user typed may reach that host off the LAN too."""
    if host := entry.data.get(CONF_TYPED_HOST):
        device_requester(hass).trust_host(str(host))


def is_described(device: UpnpDevice, device_entry: dr.DeviceEntry) -> bool:
    """Whether a registry device is the entry's device or one of its embedded devices."""
    udns = {value for domain, value in device_entry.identifiers if domain == DOMAIN}
    return any(node.udn in udns for node in device.all_devices)
