"""Push, availability and recovery: GENA renewal, SSDP alive/byebye/BOOTID, polling."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import pytest_socket
from homeassistant.components.ssdp.scanner import SsdpChange
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.appliance.connection import ApplianceConnection
from custom_components.upnp_guard.appliance.const import (
    LIVENESS_PROBE_FAILURES,
    LIVENESS_PROBE_INTERVAL_S,
    POLL_INTERVAL_S,
    RECONNECT_BACKOFF_INITIAL_S,
)
from custom_components.upnp_guard.const import RESUBSCRIBE_MIN_INTERVAL_S, SUBSCRIPTION_TIMEOUT_S
from custom_components.upnp_guard.transport import device_requester, url_host

from .conftest import (
    LAN_BASE_URL,
    SWITCH_POWER,
    FakeUpnpDevice,
    SsdpHub,
    dimmable_light,
    entry_for,
    setup_device,
)

LIGHT = "light.hall_light"


def announcement(
    device: FakeUpnpDevice, boot_id: int | None = 1, source: str | None = None
) -> SsdpServiceInfo:
    """An announcement as HA's scanner hands it on: `_host` is the datagram's source
    (the device's own address unless `source` says otherwise)."""
    headers: dict[str, str] = {"_host": source or url_host(device.location)}
    if boot_id is not None:
        headers["BOOTID.UPNP.ORG"] = str(boot_id)
    return SsdpServiceInfo(
        ssdp_usn=f"{device.spec.udn}::upnp:rootdevice",
        ssdp_st="upnp:rootdevice",
        ssdp_location=device.location,
        ssdp_udn=device.spec.udn,
        ssdp_headers=headers,
        upnp={"UDN": device.spec.udn},
    )


async def advance(hass: HomeAssistant, seconds: float) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    # Polls run as background tasks of the time-interval tracker.
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_byebye_unavailable_alive_resubscribes(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    ssdp_hub: SsdpHub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    connection = init_light.runtime_data
    await ssdp_hub.announce(announcement(light_device), SsdpChange.ALIVE)
    subscribed = light_device.subscribe_count
    await ssdp_hub.announce(announcement(light_device), SsdpChange.BYEBYE)
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    assert not connection.subscriptions
    # A NOTIFY with an old SID no longer changes anything.
    old = light_device.state(light_device.spec.udn, SWITCH_POWER).sid
    assert connection.event_handler.service_for_sid(old) is None

    forget_subscribers(light_device)
    await ssdp_hub.announce(announcement(light_device), SsdpChange.ALIVE)
    await light_device.initial_events(hass)
    assert light_device.subscribe_count == subscribed + 2
    assert hass.states.get(LIGHT).state == STATE_OFF
    await light_device.change(hass, light_device.spec.udn, SWITCH_POWER, Status=True)
    assert hass.states.get(LIGHT).state == STATE_ON
    # Logged once each way.
    assert caplog.text.count("is unavailable") == 1
    assert caplog.text.count("is available again") == 1


async def test_new_bootid_reconnects(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    ssdp_hub: SsdpHub,
) -> None:
    connection = init_light.runtime_data
    await ssdp_hub.announce(announcement(light_device, boot_id=1), SsdpChange.ALIVE)
    before = light_device.subscribe_count
    # Same BOOTID again: nothing to do.
    await ssdp_hub.announce(announcement(light_device, boot_id=1), SsdpChange.ALIVE)
    assert light_device.subscribe_count == before
    # ssdp:update announces the next BOOTID: the alive that follows is no reboot.
    update = announcement(light_device, boot_id=1)
    update.ssdp_headers["NEXTBOOTID.UPNP.ORG"] = "2"
    await ssdp_hub.announce(update, SsdpChange.UPDATE)
    await ssdp_hub.announce(announcement(light_device, boot_id=2), SsdpChange.ALIVE)
    assert light_device.subscribe_count == before
    # A BOOTID we were not told about: the device rebooted and lost our subscriptions.
    forget_subscribers(light_device)
    await ssdp_hub.announce(announcement(light_device, boot_id=9), SsdpChange.ALIVE)
    assert light_device.subscribe_count == before + 2
    assert connection.boot_id == 9
    assert connection.reconnect_count == 1
    assert hass.states.get(LIGHT).state != STATE_UNAVAILABLE


async def test_renewal_and_failed_renewal_backoff(
    hass: HomeAssistant, init_light: MockConfigEntry, light_device: FakeUpnpDevice
) -> None:
    connection = init_light.runtime_data
    sids = set(connection.subscriptions)
    before = len(light_device.mocker.mock_calls)
    await advance(hass, SUBSCRIPTION_TIMEOUT_S - 30)
    calls = [c for c in light_device.mocker.mock_calls[before:] if c[0] == "SUBSCRIBE"]
    # Both subscriptions were renewed (this tick also fires a liveness probe: one more).
    renewed = {c[3]["SID"] for c in calls if "SID" in c[3]}
    assert renewed == sids
    # A renewal carries the SID and no CALLBACK (UDA 1.1 section 4.1.2).
    assert all("SID" in c[3] and "CALLBACK" not in c[3] for c in calls)
    assert set(connection.subscriptions) == sids
    assert hass.states.get(LIGHT).state == STATE_OFF

    light_device.offline = True
    await advance(hass, 2 * SUBSCRIPTION_TIMEOUT_S)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    # Retries back off: the first after the initial delay, the next after twice that.
    light_device.offline = False
    forget_subscribers(light_device)
    await advance(hass, 2 * SUBSCRIPTION_TIMEOUT_S + RECONNECT_BACKOFF_INITIAL_S + 1)
    await light_device.initial_events(hass)
    assert hass.states.get(LIGHT).state == STATE_OFF
    assert len(connection.subscriptions) == 2


def forget_subscribers(device: FakeUpnpDevice) -> None:
    """The device restarts and forgets its subscribers (our SIDs) without a word."""
    for state in device.services.values():
        state.sid = None


def requests(device: FakeUpnpDevice, method: str, since: int = 0) -> list[tuple[Any, ...]]:
    return [call for call in device.mocker.mock_calls[since:] if call[0].upper() == method]


async def assert_resubscribed(
    hass: HomeAssistant,
    connection: ApplianceConnection,
    light_device: FakeUpnpDevice,
    old_sids: set[str],
) -> None:
    """The light's two services subscribed again under new SIDs, and its events arrive."""
    assert len(connection.subscriptions) == 2
    assert not set(connection.subscriptions) & old_sids
    await light_device.change(hass, light_device.spec.udn, SWITCH_POWER, Status=True)
    assert hass.states.get(LIGHT).state == STATE_ON


async def test_liveness_probe_unavailable_backoff_and_recovery(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A device gone without byebye: probes fail -> unavailable -> back -> resubscribed."""
    connection = init_light.runtime_data
    old_sids = set(connection.subscriptions)
    # While the device answers, a probe is one renewal and changes nothing.
    renewals = light_device.renewal_count
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert light_device.renewal_count == renewals + 1
    assert set(connection.subscriptions) == old_sids
    assert hass.states.get(LIGHT).state == STATE_OFF

    # Gone without a word (the network to it, say: it keeps our subscriptions).
    light_device.offline = True
    for _ in range(LIVENESS_PROBE_FAILURES - 1):
        await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
        assert hass.states.get(LIGHT).state == STATE_OFF  # one silence is no outage
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    assert "liveness probes" in caplog.text

    # Unavailable, it is asked again with backoff: 5 s, then 10 s later, ...
    mark = len(light_device.mocker.mock_calls)
    await advance(hass, RECONNECT_BACKOFF_INITIAL_S + 1)
    first = len(requests(light_device, "GET", mark))
    assert first > 0
    await advance(hass, RECONNECT_BACKOFF_INITIAL_S + 1)
    assert len(requests(light_device, "GET", mark)) == first  # not yet: the delay doubled
    await advance(hass, 2 * RECONNECT_BACKOFF_INITIAL_S + 1)
    assert len(requests(light_device, "GET", mark)) > first
    # ... through the description only: no GENA at a device that does not answer.
    assert not requests(light_device, "SUBSCRIBE", mark)
    assert not requests(light_device, "UNSUBSCRIBE", mark)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE

    # Back: the old subscriptions are given back and fresh ones taken.
    light_device.offline = False
    mark = len(light_device.mocker.mock_calls)
    await advance(hass, 4 * RECONNECT_BACKOFF_INITIAL_S + 1)
    await light_device.initial_events(hass)
    assert {call[3]["SID"] for call in requests(light_device, "UNSUBSCRIBE", mark)} == old_sids
    assert hass.states.get(LIGHT).state == STATE_OFF
    await assert_resubscribed(hass, connection, light_device, old_sids)
    assert caplog.text.count("is unavailable") == 1
    assert caplog.text.count("is available again") == 1
    # And it is watched again.
    renewals = light_device.renewal_count
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert light_device.renewal_count == renewals + 1


async def test_liveness_probe_resubscribes_a_device_that_forgot_us(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reboot no SSDP told us about: the probe's renewal gets 412 -> resubscribed."""
    connection = init_light.runtime_data
    old_sids = set(connection.subscriptions)
    forget_subscribers(light_device)
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    await light_device.initial_events(hass)
    assert connection.reconnect_count == 1
    await assert_resubscribed(hass, connection, light_device, old_sids)
    # It answered all along: never unavailable.
    assert "is unavailable" not in caplog.text


async def test_liveness_probe_does_not_loop_on_a_device_that_never_renews(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """412 to every renewal (a stock device without renewals): one resubscription only."""
    connection = init_light.runtime_data
    light_device.fail_renewal = True
    for _ in range(4):
        await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert connection.reconnect_count == 1
    assert caplog.text.count("no longer holds our subscription") == 1
    await light_device.initial_events(hass)
    assert hass.states.get(LIGHT).state == STATE_OFF
    # Still watched: silence is noticed as before.
    light_device.offline = True
    for _ in range(LIVENESS_PROBE_FAILURES):
        await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    # A device that renews again is again resubscribed when it forgets us.
    light_device.offline = False
    light_device.fail_renewal = False
    await advance(hass, 10 * RECONNECT_BACKOFF_INITIAL_S)
    await light_device.initial_events(hass)
    assert hass.states.get(LIGHT).state == STATE_OFF
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)  # a 200: refusals forgiven
    reconnects = connection.reconnect_count
    forget_subscribers(light_device)
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert connection.reconnect_count == reconnects + 1


async def test_liveness_probe_busy_answer_is_an_answer(
    hass: HomeAssistant, init_light: MockConfigEntry, light_device: FakeUpnpDevice
) -> None:
    """503 to a renewal ("unable to accept renewal"): there, so nothing is torn down."""
    connection = init_light.runtime_data
    sids = set(connection.subscriptions)
    light_device.renewal_status = 503
    for _ in range(LIVENESS_PROBE_FAILURES + 1):
        await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_OFF
    assert connection.reconnect_count == 0
    assert set(connection.subscriptions) == sids
    # A busy answer also resets the count of silent probes.
    light_device.renewal_status = None
    light_device.offline = True
    for _ in range(LIVENESS_PROBE_FAILURES - 1):
        await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    light_device.offline = False
    light_device.renewal_status = 503
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    light_device.offline = True
    light_device.renewal_status = None
    for _ in range(LIVENESS_PROBE_FAILURES - 1):
        await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_OFF
    await advance(hass, LIVENESS_PROBE_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE


async def test_actions_are_serialised_per_device(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    """Entities act in parallel (PARALLEL_UPDATES = 0); the device gets one at a time."""
    relays = ["switch.relay_1", "switch.relay_2"]
    await asyncio.gather(
        hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: relays}, blocking=True),
        hass.services.async_call(
            "light", "turn_on", {ATTR_ENTITY_ID: "light.lamp", "brightness": 128}, blocking=True
        ),
    )
    assert [name for name, _args in agent_device.calls].count("SetTarget") == 3
    assert agent_device.soap_max_in_flight == 1


async def test_reconnect_failure_backs_off_and_recovers(
    hass: HomeAssistant, init_light: MockConfigEntry, light_device: FakeUpnpDevice
) -> None:
    """An action on a device gone: an error, unavailable; back after retries with backoff."""
    light_device.offline = True
    with pytest.raises(HomeAssistantError, match="did not respond"):
        await hass.services.async_call("light", "turn_on", {ATTR_ENTITY_ID: LIGHT}, blocking=True)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    await advance(hass, RECONNECT_BACKOFF_INITIAL_S + 1)  # first retry fails
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    light_device.offline = False
    forget_subscribers(light_device)
    # The second retry waits twice as long.
    await advance(hass, RECONNECT_BACKOFF_INITIAL_S + 2)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    await advance(hass, 3 * RECONNECT_BACKOFF_INITIAL_S + 3)
    await light_device.initial_events(hass)
    assert hass.states.get(LIGHT).state == STATE_OFF


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_refused_subscribe_falls_back_to_polling(
    hass: HomeAssistant, ssdp_hub: SsdpHub, light_device: FakeUpnpDevice
) -> None:
    light_device.refuse_subscribe = True
    entry = entry_for(light_device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    connection = entry.runtime_data
    assert not connection.push
    assert len(connection.polled_services) == 2
    assert hass.states.get(LIGHT).state == STATE_OFF

    # Control reads back at once; device-side changes show up at the next poll.
    await hass.services.async_call("light", "turn_on", {ATTR_ENTITY_ID: LIGHT}, blocking=True)
    assert hass.states.get(LIGHT).state == STATE_ON
    light_device.state(light_device.spec.udn, SWITCH_POWER).values["Status"] = "0"
    await advance(hass, POLL_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_OFF

    light_device.offline = True
    await advance(hass, 2 * POLL_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    light_device.offline = False
    await advance(hass, 3 * POLL_INTERVAL_S + 1)
    assert hass.states.get(LIGHT).state == STATE_OFF
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations", "ssdp_hub")
@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        ("offline", "could not be reached"),
        ("bad_description", "could not be reached"),
        ("subscribe_drops", "Subscribing to the events"),
    ],
)
async def test_setup_failures_retry(
    hass: HomeAssistant, light_device: FakeUpnpDevice, breakage: str, reason: str
) -> None:
    if breakage == "offline":
        light_device.offline = True
    elif breakage == "bad_description":
        light_device.mocker._mocks.insert(
            0,
            type(light_device.mocker._mocks[0])(
                "get",
                light_device.mocker._mocks[0]._url,
                text="<not xml",
            ),
        )
    else:

        async def drop(method: str, url: object, data: object) -> object:
            from aiohttp import ClientConnectionError  # noqa: PLC0415

            raise ClientConnectionError("reset")

        for mock in light_device.mocker._mocks:
            if mock.method == "SUBSCRIBE":
                mock.side_effect = drop
    entry = entry_for(light_device)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert reason in (entry.reason or "")
    # Nothing half-made stays behind: the notify server was released.
    from custom_components.upnp_guard.notify import NOTIFY_SERVERS  # noqa: PLC0415

    pool = hass.data.get(NOTIFY_SERVERS)
    assert pool is None or not pool._servers


ATTACKER = "192.168.1.66"


async def test_announcements_from_another_address_are_ignored_and_counted(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    ssdp_hub: SsdpHub,
) -> None:
    """A host forging the light's UDN can neither make it unavailable (byebye) nor make
    us resubscribe (a new BOOTID, alive or update): only the device's address counts."""
    connection = init_light.runtime_data
    counters = device_requester(hass).counters
    await ssdp_hub.announce(announcement(light_device, boot_id=1), SsdpChange.ALIVE)
    before = light_device.subscribe_count
    sids = set(connection.subscriptions)

    await ssdp_hub.announce(announcement(light_device, source=ATTACKER), SsdpChange.BYEBYE)
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state != STATE_UNAVAILABLE
    assert connection.available
    assert set(connection.subscriptions) == sids

    await ssdp_hub.announce(
        announcement(light_device, boot_id=5, source=ATTACKER), SsdpChange.ALIVE
    )
    update = announcement(light_device, boot_id=1, source=ATTACKER)
    update.ssdp_headers["NEXTBOOTID.UPNP.ORG"] = "6"
    await ssdp_hub.announce(update, SsdpChange.UPDATE)
    await hass.async_block_till_done()
    assert light_device.subscribe_count == before
    assert connection.reconnect_count == 0
    assert connection.boot_id == 1
    # A datagram without a source the scanner could name counts as foreign too.
    unnamed = announcement(light_device)
    del unnamed.ssdp_headers["_host"]
    await ssdp_hub.announce(unnamed, SsdpChange.BYEBYE)
    assert connection.available
    assert counters.foreign_announcements == 4

    # The same from the device's own address is believed.
    await ssdp_hub.announce(announcement(light_device), SsdpChange.BYEBYE)
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE


async def test_announcements_of_a_device_added_by_host_name(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> None:
    """A device whose typed URL has a host name: its announcements count when they come
    from an address the name resolved to when we subscribed, others do not."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"])
    device = FakeUpnpDevice(aioclient_mock, dimmable_light(), base_url="http://localhost:49152")
    entry = await setup_device(hass, device)
    connection = entry.runtime_data
    await ssdp_hub.announce(announcement(device, source=ATTACKER), SsdpChange.BYEBYE)
    assert connection.available
    await ssdp_hub.announce(announcement(device, source="127.0.0.1"), SsdpChange.BYEBYE)
    await hass.async_block_till_done()
    assert not connection.available
    await hass.config_entries.async_unload(entry.entry_id)


async def test_resubscribes_from_ssdp_are_rate_limited(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    ssdp_hub: SsdpHub,
) -> None:
    """A burst of new BOOTIDs from the device's own address (a boot loop, or forged
    datagrams with a spoofed source) resubscribes once; one more is left for later."""
    connection = init_light.runtime_data
    await ssdp_hub.announce(announcement(light_device, boot_id=1), SsdpChange.ALIVE)
    before = light_device.subscribe_count
    for boot_id in range(2, 12):
        await ssdp_hub.announce(announcement(light_device, boot_id=boot_id), SsdpChange.ALIVE)
    await hass.async_block_till_done()
    assert connection.reconnect_count == 1
    assert light_device.subscribe_count == before + 2
    assert connection.boot_id == 11

    # The one deferred reconnect runs after RESUBSCRIBE_MIN_INTERVAL_S, and only one.
    await advance(hass, RESUBSCRIBE_MIN_INTERVAL_S + 1)
    assert connection.reconnect_count == 2
    await advance(hass, RESUBSCRIBE_MIN_INTERVAL_S + 1)
    assert connection.reconnect_count == 2
    assert hass.states.get(LIGHT).state != STATE_UNAVAILABLE


async def test_new_description_after_reboot_reloads_entry(
    hass: HomeAssistant,
    init_light: MockConfigEntry,
    light_device: FakeUpnpDevice,
    ssdp_hub: SsdpHub,
) -> None:
    from unittest.mock import patch  # noqa: PLC0415

    from custom_components.upnp_guard.appliance import connection as connection_module  # noqa: PLC0415

    old = init_light.runtime_data
    await ssdp_hub.announce(announcement(light_device, boot_id=1), SsdpChange.ALIVE)
    with patch.object(
        connection_module.ApplianceConnection, "_async_description_changed", return_value=True
    ):
        await ssdp_hub.announce(announcement(light_device, boot_id=2), SsdpChange.ALIVE)
        await hass.async_block_till_done()
    assert init_light.state is ConfigEntryState.LOADED
    assert init_light.runtime_data is not old
    await light_device.initial_events(hass)
    await light_device.change(hass, light_device.spec.udn, SWITCH_POWER, Status=True)
    assert hass.states.get(LIGHT).state == STATE_ON


async def test_service_urls_change_with_the_description(
    hass: HomeAssistant, aioclient_mock: object, light_device: FakeUpnpDevice
) -> None:
    from custom_components.upnp_guard.appliance.description import (  # noqa: PLC0415
        async_load_appliance,
        service_urls,
    )

    lan = FakeUpnpDevice(light_device.mocker, light_device.spec, base_url=LAN_BASE_URL)
    first = await async_load_appliance(hass, lan.location)
    again = await async_load_appliance(hass, lan.location)
    assert service_urls(first) == service_urls(again)
    # The same device behind another address (or with new paths) is a new description.
    moved = FakeUpnpDevice(light_device.mocker, light_device.spec, base_url="http://192.168.1.9:1")
    elsewhere = await async_load_appliance(hass, moved.location)
    assert elsewhere.udn == first.udn
    assert service_urls(elsewhere) != service_urls(first)
