"""What a loaded UPnP Guard entry holds, told apart by the entry's kind.

An appliance entry holds its `ApplianceConnection` (appliance/connection.py), a router
entry its `RouterData` (router/data.py). The entry's kind (const.EntryKind, stored in
its data) says which: `is_router` narrows an entry to its kind's typed alias, so code
that meets both kinds branches on the kind, never on the runtime data's class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeIs

from async_upnp_client.client import UpnpDevice
from async_upnp_client.client_factory import UpnpFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from .const import CONF_LOCATION, CONF_TYPED_HOST, DOMAIN, is_audit_entry, is_router_entry
from .lan_text import clean, markdown
from .transport import TRANSPORT_ERRORS, device_requester, url_host

if TYPE_CHECKING:
    from .appliance.connection import ApplianceConfigEntry
    from .audit import AuditConfigEntry
    from .router.data import RouterConfigEntry

type UpnpGuardConfigEntry = ApplianceConfigEntry | RouterConfigEntry | AuditConfigEntry
"""Any entry of the integration; `is_audit` and `is_router` tell which kind it is."""


def is_audit(entry: UpnpGuardConfigEntry) -> TypeIs[AuditConfigEntry]:
    """Whether the entry is the network audit's, by the kind in its data."""
    return is_audit_entry(entry.data)


def is_router(entry: UpnpGuardConfigEntry) -> TypeIs[RouterConfigEntry]:
    """Whether the entry is a router's (else an appliance's), by the kind in its data.

    An entry stored before 1.2 without a kind (a disabled one is migrated only when it
    is set up) is not a router here; such an entry is never loaded.
    """
    return is_router_entry(entry.data)


async def async_load_device(hass: HomeAssistant, location: str) -> UpnpDevice:
    """Fetch and parse a device description (raises UpnpError and aiohttp errors)."""
    factory = UpnpFactory(device_requester(hass), non_strict=True)
    return await factory.async_create_device(location)


async def async_connect(hass: HomeAssistant, data: Mapping[str, Any]) -> UpnpDevice:
    """Load the device of an entry's data; not ready while it cannot be reached."""
    location: str = data[CONF_LOCATION]
    trust_typed_host(hass, data)
    try:
        return await async_load_device(hass, location)
    except TRANSPORT_ERRORS as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="device_unreachable",
            translation_placeholders={"location": location},
        ) from err


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


def trust_typed_host(hass: HomeAssistant, data: Mapping[str, Any]) -> None:
    """An entry made from a URL the user typed may reach that host off the LAN too."""
    if host := data.get(CONF_TYPED_HOST):
        device_requester(hass).trust_host(str(host))


def is_described(device: UpnpDevice, device_entry: dr.DeviceEntry) -> bool:
    """Whether a registry device is the entry's device or one of its embedded devices."""
    udns = {value for domain, value in device_entry.identifiers if domain == DOMAIN}
    return any(node.udn in udns for node in device.all_devices)
