"""Repair flows of router issues without a LAN or root, on the fake IGD.

tests/router/test_dns_watch_lan.py and test_hostile_lan.py walk the DNS and owned-mapping
flows end to end on miniupnpd.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import DOMAIN
from custom_components.upnp_guard.router.const import CONF_ALLOW_RULES
from custom_components.upnp_guard.router.issues import owned_missing_issue_id, policy_issue_id
from tests.fakes.igd import FakeIgd, Row

from .actions import async_add_port_mapping

SMB = Row(4445, "TCP", "10.0.0.11", 445, description="smb")
OWNED_KEY = ("", 8443, "TCP")


async def _start(hass: HomeAssistant, issue_id: str) -> tuple[Any, dict[str, Any]]:
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    return manager, dict(result)


@pytest.fixture
async def violation(
    hass: HomeAssistant, fake_igd: FakeIgd, socket_enabled: None, enable_custom_integrations: None
) -> MockConfigEntry:
    from .conftest import async_setup_fake_router  # noqa: PLC0415

    fake_igd.add_row(SMB)
    return await async_setup_fake_router(hass, fake_igd)


async def test_remove_repair_removes_the_mapping_from_the_router(
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    violation: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = policy_issue_id(violation.entry_id, SMB.key)
    manager, result = await _start(hass, issue_id)
    assert result["type"] == "menu"
    assert result["menu_options"] == ["remove", "allow"]
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": "remove"}))
    assert result["type"] == "form"
    assert fake_igd.rows == [SMB]  # nothing happens before the user confirms
    result = dict(await manager.async_configure(result["flow_id"], {}))
    assert result["type"] == "create_entry"
    assert fake_igd.rows == []
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_remove_repair_refused_by_the_router_says_so(
    hass: HomeAssistant, fake_igd: FakeIgd, violation: MockConfigEntry
) -> None:
    fake_igd.refuse["DeletePortMapping"] = 606
    fake_igd.refuse["DeletePortMappingRange"] = 606
    manager, result = await _start(hass, policy_issue_id(violation.entry_id, SMB.key))
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": "remove"}))
    result = dict(await manager.async_configure(result["flow_id"], {}))
    assert result["type"] == "abort"
    assert result["reason"] == "router_removal_refused"
    assert fake_igd.rows == [SMB]


async def test_allow_repair_adds_a_rule_and_clears_the_issue(
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    violation: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = policy_issue_id(violation.entry_id, SMB.key)
    manager, result = await _start(hass, issue_id)
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": "allow"}))
    result = dict(await manager.async_configure(result["flow_id"], {}))
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert violation.options[CONF_ALLOW_RULES] == ["10.0.0.11 4445 TCP"]
    assert fake_igd.rows == [SMB]  # allowed, not removed
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize("answer", ["readd", "forget"])
@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_an_owned_mapping_removed_on_the_router_is_asked_about(
    hass: HomeAssistant, fake_igd: FakeIgd, issue_registry: ir.IssueRegistry, answer: str
) -> None:
    """Gone while the router kept running (its uptime says so): never re-added silently."""
    from .conftest import async_setup_fake_router  # noqa: PLC0415

    entry = await async_setup_fake_router(hass, fake_igd)
    await async_add_port_mapping(
        hass, {"external_port": 8443, "protocol": "TCP", "lease_duration": 600}
    )
    coordinator = entry.runtime_data.coordinator
    fake_igd.rows.clear()  # the user removed it in the router's own interface
    await coordinator.async_refresh()
    assert fake_igd.rows == []
    issue_id = owned_missing_issue_id(entry.entry_id, OWNED_KEY)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    manager, result = await _start(hass, issue_id)
    assert result["menu_options"] == ["readd", "forget"]
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": answer}))
    assert result["type"] == "create_entry"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    if answer == "readd":
        assert [row.key for row in fake_igd.rows] == [OWNED_KEY]
        assert OWNED_KEY in coordinator.owned
    else:
        assert fake_igd.rows == []
        assert OWNED_KEY not in coordinator.owned


async def test_a_repair_of_a_router_that_is_not_loaded_aborts_and_changes_nothing(
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    violation: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The entry unloaded while its issue's fix flow was open (a reload, the router gone at
    a restart): the flow says so instead of failing, nothing is removed or allowed, and
    once the entry is back the same repair works."""
    issue_id = policy_issue_id(violation.entry_id, SMB.key)
    manager, opened = await _start(hass, issue_id)  # open before the unload
    assert await hass.config_entries.async_unload(violation.entry_id)
    started = dict(await manager.async_init(DOMAIN, data={"issue_id": issue_id}))  # after it
    for menu, step in ((opened, "remove"), (started, "allow")):
        result = dict(await manager.async_configure(menu["flow_id"], {"next_step_id": step}))
        if result["type"] == "form":
            result = dict(await manager.async_configure(result["flow_id"], {}))
        assert (result["type"], result["reason"]) == ("abort", "router_not_loaded")
    assert fake_igd.rows == [SMB]
    assert CONF_ALLOW_RULES not in violation.options or violation.options[CONF_ALLOW_RULES] == []

    assert await hass.config_entries.async_setup(violation.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    manager, result = await _start(hass, issue_id)
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": "remove"}))
    result = dict(await manager.async_configure(result["flow_id"], {}))
    assert result["type"] == "create_entry"
    assert fake_igd.rows == []


# A row whose remote host is the literal text "any" (a router that keeps NewRemoteHost as
# given, or lists garbage), next to an allowed wildcard mapping on the same port.
ALLOWED_WILDCARD = Row(4445, "TCP", "10.0.0.20", 445, description="nas")
ANY_TEXT = Row(4445, "TCP", "10.0.0.11", 445, description="worm", remote_host="any")


async def test_a_remote_host_named_any_is_not_the_wildcard_mapping(
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    socket_enabled: None,
    enable_custom_integrations: None,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The issue of the "any" row is its own, and its fix flow aims at it: removing it
    leaves the allowed wildcard mapping alone; allowing it allows its client, not every
    client on the port."""
    from .conftest import async_setup_fake_router  # noqa: PLC0415

    fake_igd.add_row(ALLOWED_WILDCARD)
    fake_igd.add_row(ANY_TEXT)
    entry = await async_setup_fake_router(
        hass, fake_igd, options={CONF_ALLOW_RULES: ["10.0.0.20 4445 TCP"]}
    )
    any_issue = policy_issue_id(entry.entry_id, ANY_TEXT.key)
    assert any_issue != policy_issue_id(entry.entry_id, ALLOWED_WILDCARD.key)
    assert issue_registry.async_get_issue(DOMAIN, any_issue) is not None
    manager, result = await _start(hass, any_issue)
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": "allow"}))
    result = dict(await manager.async_configure(result["flow_id"], {}))
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options[CONF_ALLOW_RULES] == ["10.0.0.20 4445 TCP", "10.0.0.11 4445 TCP"]
    # Undo the rule; the issue comes back, and removing aims at the "any" row only.
    hass.config_entries.async_update_entry(
        entry, options={CONF_ALLOW_RULES: ["10.0.0.20 4445 TCP"]}
    )
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, any_issue) is not None
    manager, result = await _start(hass, any_issue)
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": "remove"}))
    result = dict(await manager.async_configure(result["flow_id"], {}))
    assert result["type"] == "create_entry"
    assert fake_igd.rows == [ALLOWED_WILDCARD]
