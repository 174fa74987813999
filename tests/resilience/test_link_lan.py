"""Fault injection on the simulated LAN: the agent's link cut and restored (its veth down,
then up) while Home Assistant holds it, with the recovery bounds of
custom_components/upnp_guard/appliance/const.py asserted (docs/resilience.md):

- unavailable after exactly LIVENESS_PROBE_FAILURES unanswered probes (one every
  LIVENESS_PROBE_INTERVAL_S), never before;
- after the link returns, back within one retry (at most RECONNECT_BACKOFF_MAX_S), with a
  fresh subscription, the state the device has *now* (a change made during the outage is
  not lost), and events flowing again.

The timers are fired (async_fire_time_changed), so the test checks the bounds in probe
and retry turns, not in wall-clock time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.upnp_guard.appliance.const import (
    LIVENESS_PROBE_FAILURES,
    LIVENESS_PROBE_INTERVAL_S,
    RECONNECT_BACKOFF_MAX_S,
)
from custom_components.upnp_guard.router.const import UPDATE_INTERVAL
from tests.integration.test_agent_lan import discover_and_add, in_thread, state_of
from tests.lan import Host, Lan, Router
from tests.lan.agent import start_agent
from tests.lan.waits import wait_for
from tests.resilience.boards import MAPPINGS, PORCH_BOARD, RELAY, WINDOW
from tests.router.conftest import async_setup_router, upnpc_add

pytestmark = pytest.mark.lan


def link(host: Host, state: str) -> None:
    host.run("ip", "link", "set", "eth0", state)


async def test_agent_link_cut_and_restored(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    agent = start_agent(lan, "porch", PORCH_BOARD)
    entry = await discover_and_add(hass, agent)
    connection = entry.runtime_data
    first_sids = set(connection.subscriptions)
    await wait_for(lambda: state_of(hass, WINDOW) == STATE_OFF, "window state")
    await wait_for(lambda: state_of(hass, RELAY) == STATE_OFF, "relay state")

    await in_thread(link, agent.host, "down")
    # While the link is down the board changes: the window closes.
    await in_thread(agent.set_input, "window", closed=True)
    now = dt_util.utcnow()
    for probe in range(1, LIVENESS_PROBE_FAILURES + 1):
        assert state_of(hass, RELAY) == STATE_OFF  # not unavailable before the last probe
        now += timedelta(seconds=LIVENESS_PROBE_INTERVAL_S + 1)
        async_fire_time_changed(hass, now)
        await wait_for(
            lambda probe=probe: connection.probe_failures >= probe or not connection.available,
            f"liveness probe {probe} unanswered",
        )
    await wait_for(lambda: state_of(hass, RELAY) == STATE_UNAVAILABLE, "unavailable")
    assert state_of(hass, WINDOW) == STATE_UNAVAILABLE

    await in_thread(link, agent.host, "up")
    # One retry turn at most: the backoff never exceeds RECONNECT_BACKOFF_MAX_S.
    now += timedelta(seconds=RECONNECT_BACKOFF_MAX_S + 1)
    async_fire_time_changed(hass, now)
    await wait_for(lambda: connection.available, "available again after the link returned")
    await hass.async_block_till_done()
    # The state the device has now, not the one before the outage: nothing was lost.
    await wait_for(lambda: state_of(hass, WINDOW) == STATE_ON, "window closed while cut")
    await wait_for(lambda: connection.subscriptions.keys() - first_sids, "fresh subscriptions")
    # Events flow again, and control works.
    await in_thread(agent.set_input, "window", closed=False)
    await wait_for(lambda: state_of(hass, WINDOW) == STATE_OFF, "event after recovery")
    await hass.services.async_call("switch", "turn_on", {"entity_id": RELAY}, blocking=True)
    await wait_for(lambda: state_of(hass, RELAY) == STATE_ON, "relay on after recovery")
    assert (await in_thread(agent.pins))["5"] == 1

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await in_thread(agent.stop)


async def test_router_link_cut_and_restored(
    ha_host: Host,
    router: Router,
    attacker: Host,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    """The router's LAN link cut: its entities unavailable after one failed poll; after
    the link returns, the next poll (UPDATE_INTERVAL) brings them back with the table as
    it is, and the router's events reach Home Assistant again without a poll."""
    entry = await async_setup_router(hass, router)
    coordinator = entry.runtime_data.coordinator
    events = entry.runtime_data.events
    assert state_of(hass, MAPPINGS) == "0"

    await in_thread(link, router, "down")
    now = dt_util.utcnow() + UPDATE_INTERVAL + timedelta(seconds=1)
    async_fire_time_changed(hass, now)
    await wait_for(lambda: state_of(hass, MAPPINGS) == STATE_UNAVAILABLE, "unavailable")
    assert not coordinator.last_update_success

    await in_thread(link, router, "up")
    await in_thread(upnpc_add, attacker, router, 4445)  # a change right after it returns
    now += UPDATE_INTERVAL + timedelta(seconds=1)
    async_fire_time_changed(hass, now)
    await wait_for(lambda: state_of(hass, MAPPINGS) == "1", "back, with the table as it is")
    # Events again (the router may have dropped us after NOTIFYs it could not deliver:
    # the first good poll renews, resubscribing where refused): a mapping added now shows
    # without any poll (no time is fired).
    await hass.async_block_till_done(wait_background_tasks=True)
    before = events.event_count
    await in_thread(upnpc_add, attacker, router, 4446)
    await wait_for(lambda: events.event_count > before, "an event after recovery")
    await wait_for(lambda: state_of(hass, MAPPINGS) == "2", "count by event after recovery")
    assert len(events.subscriptions) == 2

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
