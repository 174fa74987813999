"""Diagnostics: each entry kind reports its own (appliance/ and router/diagnostics.py)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .appliance import diagnostics as appliance_diagnostics
from .audit import diagnostics as audit_diagnostics
from .router import diagnostics as router_diagnostics
from .runtime import UpnpGuardConfigEntry, is_audit, is_router


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: UpnpGuardConfigEntry
) -> dict[str, Any]:
    """Hand over to the diagnostics of the entry's kind."""
    if is_audit(entry):
        return await audit_diagnostics.async_get_config_entry_diagnostics(hass, entry)
    if is_router(entry):
        return await router_diagnostics.async_get_config_entry_diagnostics(hass, entry)
    return await appliance_diagnostics.async_get_config_entry_diagnostics(hass, entry)
