"""Diagnostics: each entry kind reports its own (see appliance/, router/diagnostics.py)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import entry_kind


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> dict[str, Any]:
    """Hand over to `<kind>.diagnostics.async_get_config_entry_diagnostics`."""
    kind = entry_kind(dict(entry.data))
    module = await hass.async_add_import_executor_job(
        import_module, f"{__package__}.{kind.value}.diagnostics"
    )
    result: dict[str, Any] = await module.async_get_config_entry_diagnostics(hass, entry)
    return result
