"""UG-AGENT-001's fix flow in real Home Assistant with the real agent: the board, added
in open mode, is re-provisioned with a key (as upnp-guard-provision writes it) and
restarted; the key entered in the repair flow is checked with the agent (paired, a signed
read accepted, an unsigned request refused), stored in the agent's entry, and the finding
is gone. Not a key, an agent still open, a wrong key: a form error, nothing changed."""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from async_upnp_client.client_factory import UpnpFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.audit.const import CheckId
from custom_components.upnp_guard.audit.pair_agent import async_unsigned_refused
from custom_components.upnp_guard.const import DOMAIN
from custom_components.upnp_guard.transport import device_requester
from tests.integration.test_agent_lan import discover_and_add, in_thread, state_of
from tests.lan import Host, Lan
from tests.lan.agent import Agent, start_agent
from tests.lan.waits import wait_for

from .conftest import audit_offer, refresh_until, start_device

pytestmark = pytest.mark.lan

OPEN_CONFIG: dict[str, Any] = {
    "friendly_name": "Shed agent",
    "security_mode": "open",
    "services": [{"kind": "switch", "name": "relay", "friendly_name": "Relay", "pin": 5}],
}
# Re-provisioned: "security_mode" removed from the board config (paired is the default).
PAIRED_CONFIG = {k: v for k, v in OPEN_CONFIG.items() if k != "security_mode"}
KEY = bytes(range(40, 72))
KEY_TEXT = base64.b64encode(KEY).decode()
WRONG_TEXT = base64.b64encode(bytes(range(1, 33))).decode()


@dataclass
class OpenAgent:
    """An open agent added to Home Assistant, audited: its finding's repair issue is up."""

    agent: Agent
    state_dir: Path
    entry: ConfigEntry
    coordinator: Any
    issue_id: str


async def _open_agent_with_finding(hass: HomeAssistant, lan: Lan) -> OpenAgent:
    state_dir = lan.workdir / "shed-board"
    state_dir.mkdir()
    agent = start_agent(lan, "shed", OPEN_CONFIG, state_dir=state_dir)
    assert await async_setup_component(hass, "repairs", {})
    agent_entry = await discover_and_add(hass, agent)
    offer = audit_offer(hass)
    result = await hass.config_entries.flow.async_configure(offer["flow_id"], {})
    audit_entry = result["result"]
    await hass.async_block_till_done()
    coordinator = audit_entry.runtime_data.coordinator

    def open_finding() -> Any:
        return next(
            (f for f in coordinator.data.findings if f.check_id is CheckId.AGENT_OPEN_MODE), None
        )

    await refresh_until(coordinator, lambda: open_finding() is not None)
    finding = open_finding()
    assert finding is not None
    assert finding.address == agent.ip
    issue_id = f"audit_{finding.key}"
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    return OpenAgent(agent, state_dir, agent_entry, coordinator, issue_id)


async def _pair_flow(hass: HomeAssistant, issue_id: str) -> tuple[Any, str]:
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] == "form"
    assert result["step_id"] == "pair"
    return manager, result["flow_id"]


async def test_open_agent_fix_flow_pairs_it(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    shed = await _open_agent_with_finding(hass, lan)
    agent, state_dir, agent_entry = shed.agent, shed.state_dir, shed.entry
    coordinator, issue_id = shed.coordinator, shed.issue_id
    issues = ir.async_get(hass)
    # An open agent obeys an unsigned request: the check that tells.
    described = await UpnpFactory(device_requester(hass)).async_create_device(agent.description_url)
    assert await async_unsigned_refused(hass, described) is False

    manager, flow_id = await _pair_flow(hass, issue_id)

    # Not a key; a key while the board is still open: form errors, nothing stored.
    result = await manager.async_configure(flow_id, {"key": "not a key"})
    assert result["errors"] == {"base": "invalid_key"}
    result = await manager.async_configure(flow_id, {"key": KEY_TEXT})
    assert result["type"] == "form"
    assert result["errors"] == {"base": "agent_still_open"}
    assert "key" not in agent_entry.data
    assert issues.async_get_issue(DOMAIN, issue_id) is not None

    # Re-provisioned with the key (config without open mode, /state/key) and restarted.
    await in_thread(agent.stop)
    agent = await in_thread(
        start_agent, lan, "shed", PAIRED_CONFIG, host=agent.host, state_dir=state_dir, key=KEY
    )
    result = await manager.async_configure(flow_id, {"key": WRONG_TEXT})
    assert result["type"] == "form"
    assert result["errors"] == {"base": "wrong_key"}
    assert "key" not in agent_entry.data
    assert issues.async_get_issue(DOMAIN, issue_id) is not None

    result = await manager.async_configure(flow_id, {"key": f" {KEY_TEXT}\n"})
    assert result["type"] == "create_entry"
    assert agent_entry.data["key"] == KEY_TEXT
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert not [f for f in coordinator.data.findings if f.check_id.value.startswith("UG-AGENT")], (
        coordinator.data.findings
    )
    # The agent counted our wrong key and our unsigned request; they are not someone
    # else's attempts (no UG-AGENT-003).
    refused = (await in_thread(agent.stats))["auth_refused"]
    assert refused.get("missing", 0) >= 1
    assert refused.get("bad_mac", 0) >= 1

    # The agent's entry is paired now: loaded with the key, no reauth waiting, and its
    # signed command switches the relay.
    await wait_for(lambda: agent_entry.state is ConfigEntryState.LOADED, "agent entry loaded")
    assert not [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"].get("source") == "reauth"
    ]
    await wait_for(lambda: state_of(hass, "switch.relay") is not None, "relay entity")
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.relay"}, blocking=True
    )
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_ON, "relay on, signed")
    assert (await in_thread(agent.pins))["5"] == 1


ATTACKER_KEY_TEXT = base64.b64encode(bytes(range(100, 132))).decode()


async def test_the_key_is_checked_where_the_agents_entry_points(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Any LAN host can announce the agent's UDN. A copy of the agent (its identity, so
    the same UDN) paired with the attacker's key, announced from another host, and the
    user talked into entering that key: the check runs at the agent entry's location,
    where the real agent is still open; nothing is stored, the real agent keeps working."""
    shed = await _open_agent_with_finding(hass, lan)
    copy_dir = lan.workdir / "impostor-board"
    shutil.copytree(shed.state_dir, copy_dir)
    (copy_dir / "key").unlink(missing_ok=True)
    impostor = await in_thread(
        start_agent,
        lan,
        "impostor",
        PAIRED_CONFIG,
        state_dir=copy_dir,
        key=base64.b64decode(ATTACKER_KEY_TEXT),
    )
    assert impostor.ip != shed.agent.ip
    described = await UpnpFactory(device_requester(hass)).async_create_device(
        impostor.description_url
    )
    assert described.udn == shed.entry.unique_id  # the same identity
    # What the impostor's announcements do to the audit's inventory: the UDN's latest
    # location is the impostor's.
    seen = shed.coordinator.runner.inventory.get(shed.entry.unique_id)
    assert seen is not None
    seen.location = impostor.description_url

    manager, flow_id = await _pair_flow(hass, shed.issue_id)
    result = await manager.async_configure(flow_id, {"key": ATTACKER_KEY_TEXT})
    assert result["type"] == "form"
    assert result["errors"] == {"base": "agent_still_open"}  # the real agent, checked
    assert "key" not in shed.entry.data
    assert ir.async_get(hass).async_get_issue(DOMAIN, shed.issue_id) is not None
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.relay"}, blocking=True
    )
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_ON, "relay on")
    assert (await in_thread(shed.agent.pins))["5"] == 1
    assert (await in_thread(impostor.pins))["5"] == 0


LIAR_UDN = "uuid:00000000-0000-4000-8000-0000000f0001"


async def test_agent_that_says_paired_but_obeys_anyone_is_not_taken(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """A device with our agent's type whose GetInfo says paired but that obeys unsigned
    requests (and ignores signatures, so any key "passes" the signed read): the unsigned
    check tells, the form says still open, the issue stays."""
    liar = lan.add_host("liar")
    device = start_device(liar, "agent_open", LIAR_UDN)
    assert await async_setup_component(hass, "repairs", {})
    assert await async_setup_component(hass, "ssdp", {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    offer = audit_offer(hass)
    result = await hass.config_entries.flow.async_configure(offer["flow_id"], {})
    coordinator = result["result"].runtime_data.coordinator

    def open_findings() -> list[Any]:
        return [f for f in coordinator.data.findings if f.check_id is CheckId.AGENT_OPEN_MODE]

    await refresh_until(coordinator, open_findings)
    (finding,) = open_findings()
    assert finding.address == liar.ip
    issue_id = f"audit_{finding.key}"

    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["step_id"] == "pair"
    await in_thread(device.stop)
    device = await in_thread(start_device, liar, "agent_liar", LIAR_UDN)
    result = await manager.async_configure(result["flow_id"], {"key": KEY_TEXT})
    assert result["type"] == "form"
    assert result["errors"] == {"base": "agent_still_open"}
    # It said paired to the open read and "accepted" the signed one: only the unsigned
    # request showed it obeys anyone.
    assert device.output().count("ACTION GetInfo paired") >= 2
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
