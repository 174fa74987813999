"""Repair flows of router issues: remove or allow a mapping, accept new DNS servers,
re-add or forget an owned mapping that vanished from the router.

Home Assistant looks for `async_create_fix_flow` in the integration's root `repairs.py`,
which re-exports the one here.
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import AbortFlow

from .const import CONF_ALLOW_RULES
from .coordinator import RouterCoordinator
from .data import loaded_router
from .issues import RouterIssue, issue_of
from .models import RemovalResult, key_from_id
from .policy import AllowRule


class RouterRepairFlow(RepairsFlow):
    """The fix flow of an issue of one router entry."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id

    def _coordinator(self) -> RouterCoordinator:
        """The entry's coordinator; while the entry is not loaded the flow aborts."""
        entry = loaded_router(self.hass, self._entry_id)
        if entry is None:
            raise AbortFlow("router_not_loaded")
        return entry.runtime_data.coordinator


class MappingRepairFlow(RouterRepairFlow):
    """The fix flow of an issue about one port mapping (the issue data's `mapping` id)."""

    def __init__(self, entry_id: str, mapping: str) -> None:
        super().__init__(entry_id)
        self._key = key_from_id(mapping)


class PortMappingRepairFlow(MappingRepairFlow):
    """A mapping breaks the policy: remove it from the router, or allow it."""

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        return self.async_show_menu(step_id="init", menu_options=["remove", "allow"])

    async def async_step_remove(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        coordinator = self._coordinator()
        if user_input is None:
            return self.async_show_form(step_id="remove", data_schema=vol.Schema({}))
        result = await coordinator.async_remove(self._key)
        if result is RemovalResult.MANUAL:
            # The manual-removal issue that async_remove raised tells the user what to do.
            return self.async_abort(reason="router_removal_refused")
        return self.async_create_entry(data={})

    async def async_step_allow(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        coordinator = self._coordinator()
        if user_input is None:
            return self.async_show_form(step_id="allow", data_schema=vol.Schema({}))
        entry = coordinator.config_entry
        _remote_host, port, protocol = self._key
        current = next(
            (r.mapping for r in coordinator.data.reports if r.mapping.key == self._key), None
        )
        client = current.internal_client if current is not None else "*"
        rule = str(AllowRule.parse(f"{client} {port} {protocol}"))
        rules = list(entry.options.get(CONF_ALLOW_RULES, []))
        if rule not in rules:
            rules.append(rule)
        # The options update listener refreshes the coordinator, which drops the issue.
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_ALLOW_RULES: rules}
        )
        return self.async_create_entry(data={})


class DnsChangedRepairFlow(RouterRepairFlow):
    """The router's DNS servers changed: accept them as the new baseline."""

    def __init__(self, entry_id: str, servers: str) -> None:
        super().__init__(entry_id)
        self._servers = servers

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        # The repairs manager hands the issue id to init as if it were user input.
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        coordinator = self._coordinator()
        if user_input is None:
            return self.async_show_form(step_id="confirm", data_schema=vol.Schema({}))
        coordinator.accept_dns(self._servers)
        return self.async_create_entry(data={})


class OwnedMissingRepairFlow(MappingRepairFlow):
    """An owned mapping vanished while the router kept running: re-add it, or forget it."""

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        return self.async_show_menu(step_id="init", menu_options=["readd", "forget"])

    async def async_step_readd(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        coordinator = self._coordinator()
        if self._key not in coordinator.leases.owned:
            return self.async_abort(reason="router_mapping_not_owned")
        await coordinator.leases.async_readd(self._key)
        return self.async_create_entry(data={})

    async def async_step_forget(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        coordinator = self._coordinator()
        coordinator.leases.forget(self._key)
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Create the fix flow of a router issue."""
    data = data or {}
    issue = issue_of(issue_id)
    if issue is RouterIssue.DNS_CHANGED:
        return DnsChangedRepairFlow(str(data["entry_id"]), str(data["servers"]))
    if issue is RouterIssue.OWNED_MISSING:
        return OwnedMissingRepairFlow(str(data["entry_id"]), str(data["mapping"]))
    return PortMappingRepairFlow(str(data["entry_id"]), str(data["mapping"]))
