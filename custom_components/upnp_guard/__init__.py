"""UPnP Guard: discover, control and audit UPnP devices safely.

Each config entry is one UPnP device of one kind (see const.EntryKind); the kind's
subpackage sets it up. This module only dispatches.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from . import appliance, router
from .appliance.services import async_setup_services as async_setup_appliance_services
from .const import DOMAIN, EntryKind, entry_kind
from .router.services import async_setup_services as async_setup_router_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (they exist even with no entry loaded)."""
    async_setup_appliance_services(hass)
    async_setup_router_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Set up the entry through its kind's subpackage."""
    if entry_kind(dict(entry.data)) is EntryKind.ROUTER:
        return await router.async_setup_entry(hass, entry)
    return await appliance.async_setup_entry(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Unload the entry through its kind's subpackage."""
    if entry_kind(dict(entry.data)) is EntryKind.ROUTER:
        return await router.async_unload_entry(hass, entry)
    return await appliance.async_unload_entry(hass, entry)


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Delete what a removed entry stored."""
    if entry_kind(dict(entry.data)) is EntryKind.ROUTER:
        await router.async_remove_entry(hass, entry)
