"""GENA eventing of router entries against the real miniupnpd: push before the poll."""

from __future__ import annotations

import asyncio

import pytest
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.notify import NOTIFY_SERVERS
from custom_components.upnp_guard.router.events import RouterEvents
from tests.lan import Host, Router

from .conftest import async_setup_router, upnpc_add, upnpc_mappings

pytestmark = pytest.mark.lan

MAPPING_COUNT_SENSOR = "sensor.upnp_guard_test_router_port_mappings"
# Bounded wait for an event-driven update: far below the 30 s poll, and no time is
# ever fired, so only an event can make the sensor change.
EVENT_WAIT_STEPS = 100
EVENT_WAIT_STEP_S = 0.1


async def _async_wait_for_state(
    hass: HomeAssistant, entity_id: str, expected: str, steps: int = EVENT_WAIT_STEPS
) -> bool:
    for _ in range(steps):
        await hass.async_block_till_done()
        state = hass.states.get(entity_id)
        if state is not None and state.state == expected:
            return True
        await asyncio.sleep(EVENT_WAIT_STEP_S)
    return False


async def _async_wait_for_event_count(
    hass: HomeAssistant, events: RouterEvents, count: int
) -> bool:
    for _ in range(EVENT_WAIT_STEPS):
        await hass.async_block_till_done()
        if events.event_count >= count:
            return True
        await asyncio.sleep(EVENT_WAIT_STEP_S)
    return False


@pytest.mark.timeout(300)
async def test_mapping_added_on_lan_updates_count_by_event(
    ha_host: Host,
    router: Router,
    attacker: Host,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    entry = await async_setup_router(hass, router)
    events = entry.runtime_data.events
    # miniupnpd events WANIPConnection (and WANCommonInterfaceConfig) to us.
    assert len(events.subscriptions) == 2
    assert hass.states.get(MAPPING_COUNT_SENSOR).state == "0"
    # The initial events (one per subscription) carry what the first poll already saw.
    assert await _async_wait_for_event_count(hass, events, 2)
    initial_events = events.event_count

    await hass.async_add_executor_job(upnpc_add, attacker, router, 4445)

    assert await _async_wait_for_state(hass, MAPPING_COUNT_SENSOR, "1"), router.daemon.output()[
        -3000:
    ]
    # It was the PortMappingNumberOfEntries event that made the refresh happen.
    assert events.event_count > initial_events
    log = router.daemon.output()
    assert "SUBSCRIBE /evt/IPConn" in log
    assert "SUBSCRIBE /evt/CmnIfCfg" in log

    final_events = events.event_count
    server_count = len(_notify_servers(hass))
    assert server_count == 1
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert events.subscriptions == {}
    # The notify server was ours alone: it is stopped and forgotten.
    assert _notify_servers(hass) == {}
    log = router.daemon.output()
    assert "UNSUBSCRIBE /evt/IPConn" in log
    assert "UNSUBSCRIBE /evt/CmnIfCfg" in log
    # Nothing arrives after unload: a new mapping changes nothing we hold.
    await hass.async_add_executor_job(upnpc_add, attacker, router, 4446)
    await asyncio.sleep(1)
    await hass.async_block_till_done()
    assert events.event_count == final_events


def _notify_servers(hass: HomeAssistant) -> dict[str, object]:
    pool = hass.data.get(NOTIFY_SERVERS)
    return {} if pool is None else dict(pool._servers)


@pytest.mark.timeout(300)
async def test_renewal_and_resubscription_after_router_restart(
    ha_host: Host,
    router: Router,
    attacker: Host,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    entry = await async_setup_router(hass, router)
    events = entry.runtime_data.events
    assert len(events.subscriptions) == 2
    assert events._renewal.running  # the renewal is scheduled

    # A plain renewal is a SUBSCRIBE carrying the SID, and keeps both subscriptions.
    first_sids = set(events.subscriptions)
    await events._async_renew()
    assert set(events.subscriptions) == first_sids
    assert router.daemon is not None
    assert events._renewal.running
    for sid in first_sids:
        assert f"SID '{sid}'" in router.daemon.output()

    # miniupnpd restarted forgets its subscribers: the renewal is refused (412) and we
    # subscribe afresh; events flow again.
    await hass.async_add_executor_job(lambda: router.start_miniupnpd(secure_mode=True))
    await events._async_renew()
    assert len(events.subscriptions) == 2
    assert not set(events.subscriptions) & first_sids
    assert "SUBSCRIBE /evt/IPConn" in router.daemon.output()
    before = events.event_count
    await hass.async_add_executor_job(upnpc_add, attacker, router, 4447)
    expected = str(len(await hass.async_add_executor_job(upnpc_mappings, attacker, router)))
    # The previous event refresh may still hold the debouncer's cooldown: allow twice it.
    assert await _async_wait_for_state(hass, MAPPING_COUNT_SENSOR, expected, steps=250)
    assert events.event_count > before

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert _notify_servers(hass) == {}
