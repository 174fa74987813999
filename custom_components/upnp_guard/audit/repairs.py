"""Fix flows of device findings. Most: open the device's own page, fix it there (update
the firmware, turn UPnP or the risky service off), then confirm: the audit runs again,
with a fresh description of the device, and the issue goes only if the finding did.
UG-AGENT-001 (an agent in open mode): re-provision it with a key and enter the key, which
is checked with the agent and stored in its entry (pair_agent.py)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import probatio as vol
from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import AbortFlow

from ..agent_auth import AgentKey, InvalidKey, parse_key
from ..appliance.pairing_flow import KEY_SCHEMA
from ..const import CONF_KEY
from ..transport import is_lan_host, url_host
from .const import CheckId
from .coordinator import AuditCoordinator
from .inventory import InventoryDevice
from .pair_agent import (
    PairCheck,
    PairOutcome,
    agent_entry,
    async_store_key,
    async_verify_paired,
    check_location,
)

# A link we write into markdown: no character that could end or extend it.
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+(?:/[A-Za-z0-9._~%/?=&+-]*)?")


def device_page(device: InventoryDevice | None) -> str:
    """A markdown link to the device's page when it is one on the device itself (its
    own LAN address, http(s), plain characters), else "-": a device must not get a link
    to somewhere else into Home Assistant's UI."""
    if device is None or not device.presentation_url:
        return "-"
    url = urljoin(device.location, device.presentation_url)
    host = url_host(url)
    if (
        urlsplit(url).scheme not in ("http", "https")
        or host != device.address
        or not is_lan_host(host)
        or not _SAFE_URL.fullmatch(url)
    ):
        return "-"
    return f"[{host}]({url})"


class FindingRepairFlow(RepairsFlow):
    """Open the device's page; confirm once fixed; the audit checks again."""

    def __init__(self, entry_id: str, key: str, udn: str) -> None:
        self._entry_id = entry_id
        self._key = key
        self._udn = udn

    def _coordinator(self) -> AuditCoordinator:
        """The audit entry's coordinator; while the entry is not loaded the flow aborts."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            raise AbortFlow("audit_not_loaded")
        coordinator: AuditCoordinator = entry.runtime_data.coordinator
        return coordinator

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        coordinator = self._coordinator()
        if user_input is None:
            return self.async_show_form(
                step_id="confirm",
                data_schema=vol.Schema({}),
                description_placeholders={
                    "page": device_page(coordinator.runner.inventory.get(self._udn))
                },
            )
        coordinator.runner.forget_description(self._udn)
        await coordinator.async_refresh()
        if any(f.key == self._key for f in coordinator.data.findings):
            return self.async_abort(reason="audit_still_present")
        return self.async_create_entry(data={})


class PairAgentRepairFlow(FindingRepairFlow):
    """Re-provision the agent with a key, enter it; checked, stored, audited again."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        return await self.async_step_pair()

    async def async_step_pair(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        coordinator = self._coordinator()
        runner = coordinator.runner
        device = runner.inventory.get(self._udn)
        errors: dict[str, str] = {}
        if user_input is not None:
            text = str(user_input.get(CONF_KEY, ""))
            try:
                key = AgentKey(parse_key(text))
            except InvalidKey:
                errors["base"] = "invalid_key"
            else:
                entry = agent_entry(self.hass, self._udn)
                location = check_location(entry, device.location if device else None)
                outcome = (
                    await async_verify_paired(self.hass, location, self._udn, key)
                    if location is not None
                    else PairOutcome(PairCheck.UNREACHABLE)
                )
                runner.note_own_refusals(self._udn, outcome.boot_id, outcome.own_refusals)
                if outcome.result is PairCheck.PAIRED:
                    if entry is not None:
                        await async_store_key(self.hass, entry, text)
                    runner.forget_description(self._udn)
                    await coordinator.async_refresh()
                    if any(f.key == self._key for f in coordinator.data.findings):
                        return self.async_abort(reason="audit_still_present")
                    return self.async_create_entry(data={})
                errors["base"] = outcome.result.value
        return self.async_show_form(
            step_id="pair",
            data_schema=KEY_SCHEMA,
            description_placeholders={"page": device_page(device)},
            errors=errors,
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of an audit finding's issue."""
    data = data or {}
    args = (str(data["entry_id"]), str(data["key"]), str(data["udn"]))
    if data.get("check_id") == CheckId.AGENT_OPEN_MODE.value:
        return PairAgentRepairFlow(*args)
    return FindingRepairFlow(*args)
