"""event platform: each entry kind adds its own entities (see appliance/, router/)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .platform_dispatch import async_dispatch_platform


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Hand over to the entry kind's event module."""
    await async_dispatch_platform("event", hass, entry, async_add_entities)
