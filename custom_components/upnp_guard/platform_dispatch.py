"""Route a platform's setup to the module of the entry's kind (appliance/ or router/)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import entry_kind


async def async_dispatch_platform(
    platform: str,
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Call `<kind>.<platform>.async_setup_entry` (only kinds that forward it get here)."""
    kind = entry_kind(dict(entry.data))
    module = await hass.async_add_import_executor_job(
        import_module, f"{__package__}.{kind.value}.{platform}"
    )
    await module.async_setup_entry(hass, entry, async_add_entities)
