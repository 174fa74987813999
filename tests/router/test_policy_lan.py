"""An infected LAN host opens ports on the real miniupnpd: listed, alerted, then enforced."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.upnp_guard.const import DOMAIN
from custom_components.upnp_guard.router.const import (
    CONF_ADD_CLIENTS,
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
    EVENT_PORT_MAPPING,
    MODE_ENFORCE,
    MODE_MONITOR,
)
from tests.lan import Host, Lan, Router

from .actions import async_list_port_mappings
from .conftest import async_setup_router, upnpc_add, upnpc_mappings

pytestmark = pytest.mark.lan


@pytest.fixture
def open_router(lan: Lan) -> Router:
    """Secure mode, but the permission rules let LAN hosts map privileged ports too."""
    gateway = lan.add_router()
    gateway.start_miniupnpd(secure_mode=True, allow_rules=[f"allow 1-65535 {lan.lan_net} 1-65535"])
    return gateway


def _by_port(mappings: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {m["external_port"]: m for m in mappings}


async def test_infected_host_listed_alerted_then_removed_in_enforce_mode(
    ha_host: Host,
    lan: Lan,
    open_router: Router,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    router = open_router
    infected = lan.add_host("infected")
    nas = lan.add_host("nas")
    # What the "galleta silenciosa" campaign did: SMB of a LAN host exposed to the internet.
    upnpc_add(infected, router, 445, description="galleta silenciosa", lease=3600)
    upnpc_add(infected, router, 3389, "TCP", lease=3600)
    upnpc_add(nas, router, 5001, lease=3600, description="NAS web")
    upnpc_add(nas, router, 40000, "UDP", lease=3600, description="NAT-PMP 40000 udp")
    # Home Assistant knows the NAS (a device tracker reports its address).
    hass.states.async_set("device_tracker.nas", "home", {"ip": nas.ip, "host_name": "nas"})
    events = async_capture_events(hass, EVENT_PORT_MAPPING)

    entry = await async_setup_router(
        hass, router, {CONF_ALLOW_RULES: [f"{nas.ip} 5001 TCP NAS*"], CONF_ADD_CLIENTS: []}
    )

    response = await async_list_port_mappings(hass)
    assert response is not None
    listed = _by_port(response["port_mappings"])  # type: ignore[arg-type]
    assert set(listed) == {445, 3389, 5001, 40000}
    smb = listed[445]
    assert smb["internal_client"] == infected.ip
    assert smb["owner"] is None
    assert smb["origin"] == "upnp"
    assert smb["violates_policy"] is True
    assert set(smb["risk_flags"]) == {
        "privileged_port",
        "dangerous_service",
        "malicious_description",
        "unknown_client",
    }
    assert 3500 < smb["lease_remaining"] <= 3600
    assert listed[3389]["risk_flags"] == ["dangerous_service", "unknown_client"]
    assert listed[5001]["owner"] == "nas"
    assert listed[5001]["violates_policy"] is False
    assert listed[5001]["risk_flags"] == []
    assert listed[40000]["origin"] == "nat-pmp"
    assert listed[40000]["owner"] == "nas"
    assert listed[40000]["violates_policy"] is True

    # One repair issue and one event per mapping that breaks the policy, not more.
    issues = ir.async_get(hass)
    ours = {
        issue_id: issue
        for (domain, issue_id), issue in issues.issues.items()
        if domain == DOMAIN and issue.translation_key == "port_mapping_policy"
    }
    assert len(ours) == 3
    smb_issue = next(
        i for i in ours.values() if i.translation_placeholders["external_port"] == "445"
    )
    assert smb_issue.severity is ir.IssueSeverity.ERROR
    assert smb_issue.is_fixable
    violations = {e.data["external_port"] for e in events if e.data["type"] == "policy_violation"}
    assert violations == {445, 3389, 40000}
    assert len(events) == 3
    assert hass.states.get("sensor.upnp_guard_test_router_port_mappings").state == "4"
    assert (
        hass.states.get("sensor.upnp_guard_test_router_port_mappings_breaking_the_policy").state
        == "3"
    )

    # Polling again neither duplicates issues nor events.
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert len(events) == 3

    # Choosing enforce shows what it would remove (with the rules being submitted) and
    # asks first; closing the dialog changes nothing.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_MODE: MODE_ENFORCE,
            CONF_GRACE_PERIOD: 0,
            CONF_ALLOW_RULES: [f"{nas.ip} 5001 TCP NAS*", f"{infected.ip} 3389 TCP"],
            CONF_ADD_CLIENTS: [],
        },
    )
    assert result["type"] == "form"
    assert result["step_id"] == "enforce"
    preview = result["description_placeholders"]
    assert preview["count"] == "2"
    lines = preview["mappings"].splitlines()
    assert lines == [
        f"- ` TCP ` 445 → ` {infected.ip} ` port 445, ` galleta silenciosa `",
        f"- ` UDP ` 40000 → ` {nas.ip} ` port 40000, ` NAT-PMP 40000 udp `",
    ]
    hass.config_entries.options.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert entry.options.get(CONF_MODE, MODE_MONITOR) == MODE_MONITOR
    assert set(_by_port(upnpc_mappings(nas, router))) == {445, 3389, 5001, 40000}

    # Enforce mode confirmed: grace period 0 removes them at once.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_MODE: MODE_ENFORCE,
            CONF_GRACE_PERIOD: 0,
            CONF_ALLOW_RULES: [f"{nas.ip} 5001 TCP NAS*"],
            CONF_ADD_CLIENTS: [],
        },
    )
    assert result["step_id"] == "enforce"
    assert result["description_placeholders"]["count"] == "3"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()

    remaining = _by_port(upnpc_mappings(nas, router))
    assert set(remaining) == {5001}
    ruleset = router.nft_ruleset()
    assert "dport 5001" in ruleset
    for port in (445, 3389, 40000):
        assert f"dport {port} " not in ruleset
    removed = {e.data["external_port"] for e in events if e.data["type"] == "removed"}
    assert removed == {445, 3389, 40000}
    assert not [
        issue_id
        for (domain, issue_id), issue in issues.issues.items()
        if domain == DOMAIN and issue.translation_key == "port_mapping_policy"
    ]
    assert hass.states.get("sensor.upnp_guard_test_router_port_mappings").state == "1"
    assert (
        hass.states.get("sensor.upnp_guard_test_router_port_mappings_breaking_the_policy").state
        == "0"
    )
    assert hass.states.get("binary_sensor.upnp_guard_test_router_wan_connected").state == "on"
    assert hass.states.get("sensor.upnp_guard_test_router_external_ip").state == router.wan_ip
