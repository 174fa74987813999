"""Diagnostics: each entry kind reports its own (appliance/ and router/diagnostics.py)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .appliance import diagnostics as appliance_diagnostics
from .audit import diagnostics as audit_diagnostics
from .const import EntryKind, entry_kind
from .router import diagnostics as router_diagnostics


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> dict[str, Any]:
    """Hand over to the diagnostics of the entry's kind (imported, so mypy sees them)."""
    if entry_kind(dict(entry.data)) is EntryKind.AUDIT:
        return await audit_diagnostics.async_get_config_entry_diagnostics(hass, entry)
    if entry_kind(dict(entry.data)) is EntryKind.ROUTER:
        return await router_diagnostics.async_get_config_entry_diagnostics(hass, entry)
    return await appliance_diagnostics.async_get_config_entry_diagnostics(hass, entry)
