"""Repair flows: Home Assistant looks for them here; each kind keeps its own."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant

from .audit.const import AUDIT_ISSUE_PREFIX
from .audit.repairs import async_create_fix_flow as async_create_audit_fix_flow
from .router.repairs import async_create_fix_flow as async_create_router_fix_flow


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The audit's findings (AUDIT_ISSUE_PREFIX) or a router issue."""
    if issue_id.startswith(AUDIT_ISSUE_PREFIX):
        return await async_create_audit_fix_flow(hass, issue_id, data)
    return await async_create_router_fix_flow(hass, issue_id, data)
