"""Repair flows: Home Assistant looks for them here.

The audit's findings and router issues have their own (audit/repairs.py,
router/repairs.py); a refused location move (location.py) is fixed here: accept the
move, or ignore it.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .audit.const import AUDIT_ISSUE_PREFIX
from .audit.repairs import async_create_fix_flow as async_create_audit_fix_flow
from .const import DOMAIN
from .location import async_accept_move, move_guard, move_issue_id
from .router.repairs import async_create_fix_flow as async_create_router_fix_flow


class LocationMoveRepairFlow(RepairsFlow):
    """A device was announced at a location that did not check out: the user decides."""

    def __init__(self, entry_id: str, location: str) -> None:
        self._entry_id = entry_id
        self._location = location

    def _placeholders(self) -> dict[str, str]:
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, move_issue_id(self._entry_id))
        return dict(issue.translation_placeholders or {}) if issue is not None else {}

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        return self.async_show_menu(
            step_id="init",
            menu_options=["accept", "ignore"],
            description_placeholders=self._placeholders(),
        )

    async def async_step_accept(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.domain != DOMAIN:
            return self.async_abort(reason="entry_gone")
        async_accept_move(self.hass, entry, self._location)
        return self.async_create_entry(data={})

    async def async_step_ignore(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        move_guard(self.hass).ignore(self._entry_id, self._location)
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """A refused move, the audit's findings (AUDIT_ISSUE_PREFIX) or a router issue."""
    if issue_id.startswith("location_move_") and data is not None:
        return LocationMoveRepairFlow(str(data["entry_id"]), str(data["location"]))
    if issue_id.startswith(AUDIT_ISSUE_PREFIX):
        return await async_create_audit_fix_flow(hass, issue_id, data)
    return await async_create_router_fix_flow(hass, issue_id, data)
