"""Router entries: IGD port mappings, WAN status and DNS watch."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from ..runtime import UpnpGuardConfigEntry, async_connect

PLATFORMS: list[Platform] = []


async def async_setup_entry(hass: HomeAssistant, entry: UpnpGuardConfigEntry) -> bool:
    """Connect to the router and set up its platforms."""
    entry.runtime_data = await async_connect(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: UpnpGuardConfigEntry) -> bool:
    """Unload a router entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
