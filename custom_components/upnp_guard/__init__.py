"""UPnP Guard: discover, control and audit UPnP devices safely.

Each config entry is one UPnP device of one kind (see const.EntryKind); the kind's
subpackage sets it up. This module only dispatches.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from . import appliance, audit, router
from .appliance.services import async_setup_services as async_setup_appliance_services
from .audit.config_flow import async_offer_audit
from .audit.services import async_setup_services as async_setup_audit_services
from .const import (
    CONF_KIND,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    inferred_kind,
)
from .location import move_issue_id
from .router.services import async_setup_services as async_setup_router_services
from .runtime import UpnpGuardConfigEntry, is_audit, is_described, is_router, other_device_issue_id

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (they exist even with no entry loaded)."""
    async_setup_appliance_services(hass)
    async_setup_router_services(hass)
    async_setup_audit_services(hass)
    async_offer_audit(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: UpnpGuardConfigEntry) -> bool:
    """1.1 -> 1.2: store the entry's kind. (Home Assistant itself refuses an entry of a
    newer major version, a downgrade, before calling this.)"""
    if entry.minor_version < ENTRY_MINOR_VERSION:
        data = dict(entry.data)
        if CONF_KIND not in data:
            data[CONF_KIND] = inferred_kind(data).value
        hass.config_entries.async_update_entry(entry, data=data, minor_version=ENTRY_MINOR_VERSION)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: UpnpGuardConfigEntry) -> bool:
    """Set up the entry through its kind's subpackage."""
    if is_audit(entry):
        return await audit.async_setup_entry(hass, entry)
    if is_router(entry):
        return await router.async_setup_entry(hass, entry)
    return await appliance.async_setup_entry(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: UpnpGuardConfigEntry) -> bool:
    """Unload the entry through its kind's subpackage."""
    if is_audit(entry):
        return await audit.async_unload_entry(hass, entry)
    if is_router(entry):
        return await router.async_unload_entry(hass, entry)
    return await appliance.async_unload_entry(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: UpnpGuardConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """The user may delete a device the entry's description no longer has, never a live one
    (it would come back at the next start)."""
    if entry.state is not ConfigEntryState.LOADED or is_audit(entry):
        return True
    return not is_described(entry.runtime_data.device, device_entry)


async def async_remove_entry(hass: HomeAssistant, entry: UpnpGuardConfigEntry) -> None:
    """Delete what a removed entry stored (also of an entry never migrated)."""
    if is_audit(entry):
        return  # it stores nothing; its issues went when it was unloaded
    for issue_id in (move_issue_id(entry.entry_id), other_device_issue_id(entry.entry_id)):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    if is_router(entry):
        await router.async_remove_entry(hass, entry)
    else:
        await appliance.async_remove_entry(hass, entry)
