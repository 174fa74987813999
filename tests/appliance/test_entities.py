"""Entities of appliance entries: what is created, their state, control, events."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.upnp_guard.appliance.event import MAX_EVENTS_PER_NOTIFY

from .conftest import (
    BINARY_INPUT,
    DIMMING,
    HUMIDITY,
    SWITCH_POWER,
    TEMPERATURE,
    FakeUpnpDevice,
    SsdpHub,
    setup_device,
)

LIGHT = "light.hall_light"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's serializer: registry ids and times are left out, as in core."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "socket_enabled")
@pytest.mark.parametrize(
    "platform",
    [Platform.SWITCH, Platform.LIGHT, Platform.SENSOR, Platform.BINARY_SENSOR, Platform.EVENT],
)
async def test_agent_platform_snapshot(  # noqa: PLR0917
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    agent_device: FakeUpnpDevice,
    enable_custom_integrations: None,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with (
        patch("custom_components.upnp_guard.appliance.PLATFORMS", [platform]),
        patch("custom_components.upnp_guard.appliance.sensor.dt_util.utc_from_timestamp") as ts,
    ):
        from homeassistant.util import dt as dt_util  # noqa: PLC0415

        ts.return_value = dt_util.parse_datetime("2026-11-25T20:00:00+00:00")
        entry = await setup_device(hass, agent_device)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


@pytest.mark.usefixtures("init_light")
async def test_light_state_and_control(hass: HomeAssistant, light_device: FakeUpnpDevice) -> None:
    state = hass.states.get(LIGHT)
    assert state is not None
    assert state.state == STATE_OFF

    await hass.services.async_call(
        "light", "turn_on", {ATTR_ENTITY_ID: LIGHT, "brightness": 128}, blocking=True
    )
    # The level is set before the power, so the light never flashes at its old level.
    assert [name for name, _ in light_device.calls] == ["SetLoadLevelTarget", "SetTarget"]
    assert light_device.calls[0][1] == {"newLoadlevelTarget": "50"}
    # No state change until the device says so (push, not optimistic).
    assert hass.states.get(LIGHT).state == STATE_OFF
    await light_device.deliver(hass)
    state = hass.states.get(LIGHT)
    assert state.state == STATE_ON
    assert state.attributes["brightness"] == 128

    await hass.services.async_call("light", "turn_off", {ATTR_ENTITY_ID: LIGHT}, blocking=True)
    await light_device.deliver(hass)
    assert hass.states.get(LIGHT).state == STATE_OFF


@pytest.mark.usefixtures("init_light")
async def test_light_follows_device_events(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    udn = light_device.spec.udn
    await light_device.change(hass, udn, SWITCH_POWER, Status=True)
    await light_device.change(hass, udn, DIMMING, LoadLevelStatus=100)
    state = hass.states.get(LIGHT)
    assert state.state == STATE_ON
    assert state.attributes["brightness"] == 255


@pytest.mark.usefixtures("init_light")
async def test_soap_fault_raises_with_upnp_code(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    light_device.soap_fault = (501, "Action Failed")
    with pytest.raises(HomeAssistantError, match="UPnP error 501") as err:
        await hass.services.async_call("light", "turn_on", {ATTR_ENTITY_ID: LIGHT}, blocking=True)
    assert err.value.translation_key == "action_failed"
    # The device answered: it stays available and works once it stops refusing.
    assert hass.states.get(LIGHT).state == STATE_OFF
    light_device.soap_fault = None
    await hass.services.async_call("light", "turn_on", {ATTR_ENTITY_ID: LIGHT}, blocking=True)
    await light_device.deliver(hass)
    assert hass.states.get(LIGHT).state == STATE_ON


@pytest.mark.usefixtures("init_agent")
async def test_agent_entities(hass: HomeAssistant, agent_device: FakeUpnpDevice) -> None:
    udn = agent_device.spec.udn
    assert hass.states.get("switch.relay_1").state == STATE_OFF
    # Two embedded devices of the same type both exist (the library keys them by type).
    assert hass.states.get("switch.relay_2").state == STATE_OFF
    assert hass.states.get("sensor.climate_temperature").state == "21.5"
    assert hass.states.get("sensor.climate_humidity").state == "45.5"
    assert hass.states.get("sensor.garage_agent_firmware_version").state == "0.1.0"
    assert hass.states.get("sensor.garage_agent_security_mode").state == "open"

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.relay_2"}, blocking=True
    )
    await agent_device.deliver(hass)
    assert hass.states.get("switch.relay_2").state == STATE_ON
    assert hass.states.get("switch.relay_1").state == STATE_OFF

    await agent_device.change(hass, f"{udn}-sensor", TEMPERATURE, CurrentTemperature=-125)
    assert hass.states.get("sensor.climate_temperature").state == "-1.25"
    await agent_device.change(hass, f"{udn}-sensor", HUMIDITY, CurrentHumidity=10000)
    assert hass.states.get("sensor.climate_humidity").state == "100.0"


@pytest.mark.usefixtures("init_agent")
async def test_button_press_fires_event_once_per_press(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    udn = f"{agent_device.spec.udn}-button"
    event_id = "event.doorbell_press"
    # The initial event (PressCount=3) re-based the count without firing.
    assert hass.states.get(event_id).state == "unknown"

    await agent_device.change(hass, udn, BINARY_INPUT, State=True, PressCount=4)
    assert hass.states.get("binary_sensor.doorbell_input").state == STATE_ON
    first = hass.states.get(event_id)
    assert first.attributes["event_type"] == "press"
    assert first.attributes["press_count"] == 4
    await agent_device.change(hass, udn, BINARY_INPUT, State=False)
    assert hass.states.get("binary_sensor.doorbell_input").state == STATE_OFF
    # Releasing the button is not a press.
    assert hass.states.get(event_id).last_changed == first.last_changed

    # A lower count means the device rebooted: re-based, nothing fired.
    await agent_device.change(hass, udn, BINARY_INPUT, PressCount=0)
    assert hass.states.get(event_id).last_changed == first.last_changed
    await agent_device.change(hass, udn, BINARY_INPUT, PressCount=1)
    assert hass.states.get(event_id).attributes["press_count"] == 1


@pytest.mark.usefixtures("init_agent")
async def test_a_jump_of_presses_is_one_state_change_per_press(
    hass: HomeAssistant, agent_device: FakeUpnpDevice, caplog: pytest.LogCaptureFixture
) -> None:
    """The device coalesced presses into one event: automations still see each press."""
    udn = f"{agent_device.spec.udn}-button"
    event_id = "event.doorbell_press"
    seen: list[int] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            seen.append(new.attributes["press_count"])

    unsubscribe = async_track_state_change_event(hass, [event_id], record)
    await agent_device.change(hass, udn, BINARY_INPUT, PressCount=3 + 7)
    assert seen == list(range(4, 11))
    # A jump past the bound fires the latest MAX_EVENTS_PER_NOTIFY presses and says so.
    seen.clear()
    await agent_device.change(hass, udn, BINARY_INPUT, PressCount=10 + 1_000_000)
    assert seen == list(range(1_000_011 - MAX_EVENTS_PER_NOTIFY, 1_000_011))
    assert "1000000 presses arrived in one event" in caplog.text
    unsubscribe()


async def test_device_registry(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    device_registry: dr.DeviceRegistry,
) -> None:
    root = device_registry.async_get_device_by_identifier(
        ("upnp_guard", agent_device.spec.udn), init_agent.entry_id
    )
    assert root is not None
    assert root.manufacturer == "UPnP Guard"
    assert root.model == "UPnP Guard Agent"
    assert root.sw_version == "0.1.0"
    assert (dr.CONNECTION_UPNP, agent_device.spec.udn) in root.connections
    relay = device_registry.async_get_device_by_identifier(
        ("upnp_guard", f"{agent_device.spec.udn}-relay1"), init_agent.entry_id
    )
    assert relay is not None
    assert relay.via_device_id == root.id
    assert relay.name == "Relay 1"
