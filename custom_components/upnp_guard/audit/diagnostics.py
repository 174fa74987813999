"""Diagnostics of the audit entry: the full report (inventory, findings, score) and the
data files in use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

if TYPE_CHECKING:
    from . import AuditConfigEntry

# Like the router's diagnostics: what identifies a household's devices is redacted
# (the action's response keeps it: it stays in Home Assistant).
TO_REDACT = {"udn"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AuditConfigEntry
) -> dict[str, Any]:
    """The last report (UDNs redacted); every string in it was cleaned and bounded when
    it was kept."""
    coordinator = entry.runtime_data.coordinator
    database = coordinator.runner.database
    return {
        "report": async_redact_data(coordinator.data.as_dict(), TO_REDACT),
        "stacks": sorted(database.stacks),
        "advisories": len(database.advisories),
        "model_fingerprints": len(database.models),
        "options": dict(entry.options),
    }
