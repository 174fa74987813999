"""Home Assistant restarted while the devices keep running: both entries stopped (as at
shutdown) and started again with the same storage. Entities come back with the state the
devices have *now*, the agent's subscriptions are fresh (new SIDs), the router entry still
owns and renews the mapping it added, its policy is the same and raises the same repair
issues, not duplicates."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.upnp_guard.const import DOMAIN
from custom_components.upnp_guard.router.const import (
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
    MODE_MONITOR,
    UPDATE_INTERVAL,
    UPTIME_SLACK,
)
from tests.integration.test_agent_lan import discover_and_add, in_thread, state_of
from tests.lan import Host, Lan, Router
from tests.lan.agent import start_agent
from tests.lan.waits import wait_for
from tests.resilience.boards import MAPPINGS, PORCH_BOARD
from tests.router.conftest import async_setup_router, upnpc_add

pytestmark = pytest.mark.lan


def our_issues(hass: HomeAssistant) -> list[str]:
    return sorted(issue for domain, issue in ir.async_get(hass).issues if domain == DOMAIN)


@pytest.mark.usefixtures("ha_host")
async def test_home_assistant_restart_keeps_state_ownership_and_policy(
    lan: Lan,
    router: Router,
    attacker: Host,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    agent = start_agent(lan, "porch", PORCH_BOARD)
    agent_entry = await discover_and_add(hass, agent)
    options = {
        CONF_MODE: MODE_MONITOR,
        CONF_GRACE_PERIOD: 300,
        CONF_ALLOW_RULES: [f"{attacker.ip} 5000 TCP"],
    }
    router_entry = await async_setup_router(hass, router, options)
    await hass.services.async_call(
        DOMAIN,
        "add_port_mapping",
        {"external_port": 8444, "protocol": "TCP", "lease_duration": 600},
        blocking=True,
    )
    await in_thread(upnpc_add, attacker, router, 5000)  # allowed by the rule
    await in_thread(upnpc_add, attacker, router, 5001)  # breaks the policy: a repair
    await router_entry.runtime_data.coordinator.async_refresh()
    await wait_for(lambda: state_of(hass, MAPPINGS) == "3", "three mappings")
    issues = our_issues(hass)
    assert any("5001" in issue for issue in issues), issues
    assert not any("5000" in issue for issue in issues), issues
    old_sids = set(agent_entry.runtime_data.subscriptions)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.relay"}, blocking=True
    )
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_ON, "relay on")

    # Shutdown: both entries stop (they unsubscribe; owned mappings stay on the router).
    for entry in (agent_entry, router_entry):
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # Meanwhile the device changes: the window closes.
    await in_thread(agent.set_input, "window", closed=True)

    for entry in (agent_entry, router_entry):
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert agent_entry.state is ConfigEntryState.LOADED
    assert router_entry.state is ConfigEntryState.LOADED

    # The devices' current state, through fresh subscriptions.
    await wait_for(lambda: state_of(hass, "binary_sensor.window_input") == STATE_ON, "window")
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_ON, "relay as it is")
    connection = agent_entry.runtime_data
    await wait_for(lambda: connection.subscriptions, "subscribed")
    assert not set(connection.subscriptions) & old_sids
    await in_thread(agent.set_input, "window", closed=False)
    await wait_for(lambda: state_of(hass, "binary_sensor.window_input") == STATE_OFF, "event")

    # Ownership and policy survive; the same issues, none twice.
    coordinator = router_entry.runtime_data.coordinator
    assert [key[1] for key in coordinator.owned] == [8444]
    assert router_entry.options == options
    await coordinator.async_refresh()
    await wait_for(lambda: state_of(hass, MAPPINGS) == "3", "three mappings again")
    assert our_issues(hass) == issues

    for entry in (agent_entry, router_entry):
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await in_thread(agent.stop)


@pytest.mark.usefixtures("ha_host", "enable_custom_integrations")
async def test_router_daemon_restart_recovers_without_duplicate_issues(
    lan: Lan, router: Router, attacker: Host, hass: HomeAssistant
) -> None:
    """miniupnpd restarted (an empty table, no subscribers, its uptime back to 0): at the
    next poll the owned mapping is back, the vanished policy breach's issue is gone, the
    sensors show the table as it is; the subscriptions are renewed at once (uptime went
    back), so a new breach arrives by event and raises one issue, not two."""
    entry = await async_setup_router(hass, router, {CONF_MODE: MODE_MONITOR})
    coordinator = entry.runtime_data.coordinator
    events = entry.runtime_data.events
    await hass.services.async_call(
        DOMAIN,
        "add_port_mapping",
        {"external_port": 8444, "protocol": "TCP", "lease_duration": 600},
        blocking=True,
    )
    await in_thread(upnpc_add, attacker, router, 5001)
    await coordinator.async_refresh()
    await wait_for(lambda: state_of(hass, MAPPINGS) == "2", "two mappings")
    assert [i for i in our_issues(hass) if "5001" in i]
    old_sids = set(events.subscriptions)

    # Whole seconds of uptime: let more than the slack pass before the restart.
    await asyncio.sleep(UPTIME_SLACK + 1)
    await in_thread(router.stop_miniupnpd)
    router.run("sh", "/etc/miniupnpd/nft_flush.sh", "-f", str(router.conf_path))
    (lan.workdir / "router-miniupnpd.leases").unlink(missing_ok=True)
    await in_thread(lambda: router.start_miniupnpd(extra_options={"system_uptime": "no"}))
    async_fire_time_changed(hass, dt_util.utcnow() + UPDATE_INTERVAL + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)

    await wait_for(lambda: state_of(hass, MAPPINGS) == "1", "only ours, re-added")
    assert [key[1] for key in coordinator.owned] == [8444]
    assert not [i for i in our_issues(hass) if "5001" in i]
    await wait_for(
        lambda: events.subscriptions and not set(events.subscriptions) & old_sids,
        "fresh subscriptions",
    )
    before = events.event_count
    await in_thread(upnpc_add, attacker, router, 5002)
    await wait_for(lambda: events.event_count > before, "an event from the restarted router")
    await wait_for(lambda: [i for i in our_issues(hass) if "5002" in i], "the new breach")
    await coordinator.async_refresh()
    issues = our_issues(hass)
    assert len(issues) == len(set(issues))
    assert len([i for i in issues if "5002" in i]) == 1
    assert state_of(hass, MAPPINGS) == "2"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
