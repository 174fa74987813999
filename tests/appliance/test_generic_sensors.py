"""Generic sensors: evented numeric variables of services no other entity covers."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from .conftest import (
    DIMMING,
    FakeUpnpDevice,
    ServiceSpec,
    SsdpHub,
    dimmable_light,
    setup_device,
)

METER = "urn:vendor-example-com:service:PowerMeter:1"
METER_ID = "urn:vendor-example-com:serviceId:PowerMeter"
WATTS = "sensor.hall_light_watts"


def meter() -> ServiceSpec:
    """A vendor service: one evented reading, one read-only setting, one evented text."""
    return ServiceSpec(
        METER,
        METER_ID,
        {
            "Watts": ("ui2", True, "120"),
            "Calibration": ("ui2", False, "3"),
            "Label": ("string", True, "desk"),
        },
        {"GetWatts": [("CurrentWatts", "out", "Watts")]},
    )


@pytest.fixture
async def metered_light(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> AsyncGenerator[tuple[FakeUpnpDevice, MockConfigEntry]]:
    spec = dimmable_light()
    spec.services.append(meter())
    device = FakeUpnpDevice(aioclient_mock, spec)
    entry = await setup_device(hass, device)
    yield device, entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_one_sensor_per_evented_numeric_variable(
    hass: HomeAssistant,
    metered_light: tuple[FakeUpnpDevice, MockConfigEntry],
    entity_registry: er.EntityRegistry,
) -> None:
    device, entry = metered_light
    generic = [
        entity
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if entity.domain == Platform.SENSOR and entity.translation_key == "state_variable"
    ]
    # Not Calibration (not evented), not Label (text), not Dimming's LoadLevelStatus (the
    # light covers it).
    assert [entity.unique_id for entity in generic] == [f"{device.spec.udn}_{METER_ID}_Watts"]
    (watts,) = generic
    assert watts.entity_id == WATTS
    assert watts.original_device_class is None
    assert watts.unit_of_measurement is None
    state = hass.states.get(WATTS)
    assert state is not None
    assert state.state == "120"
    assert state.attributes["state_class"] == "measurement"
    assert state.attributes["friendly_name"] == "Hall light Watts"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_events_update_and_garbage_is_unknown(
    hass: HomeAssistant, metered_light: tuple[FakeUpnpDevice, MockConfigEntry]
) -> None:
    device, _entry = metered_light
    udn = device.spec.udn
    await device.change(hass, udn, METER, Watts=250)
    assert hass.states.get(WATTS).state == "250"

    await device.change(hass, udn, METER, Watts="lots")
    assert hass.states.get(WATTS).state == STATE_UNKNOWN
    # The rest of the device keeps working, and a good reading recovers the sensor.
    await device.change(hass, udn, DIMMING, LoadLevelStatus=100)
    await hass.services.async_call(
        "light", "turn_on", {ATTR_ENTITY_ID: "light.hall_light"}, blocking=True
    )
    await device.deliver(hass)
    assert hass.states.get("light.hall_light").state == STATE_ON
    await device.change(hass, udn, METER, Watts=7)
    assert hass.states.get(WATTS).state == "7"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_float_reading_and_non_finite_is_unknown(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> None:
    spec = dimmable_light()
    spec.services.append(ServiceSpec(METER, METER_ID, {"Volts": ("r8", True, "229.5")}, {}))
    device = FakeUpnpDevice(aioclient_mock, spec)
    entry = await setup_device(hass, device)
    volts = "sensor.hall_light_volts"
    assert hass.states.get(volts).state == "229.5"
    # NaN parses as a float but is no measurement.
    await device.change(hass, spec.udn, METER, Volts="NaN")
    assert hass.states.get(volts).state == STATE_UNKNOWN
    await device.change(hass, spec.udn, METER, Volts="-0.25")
    assert hass.states.get(volts).state == "-0.25"
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_generic_sensors_start_disabled_and_work_once_enabled(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
) -> None:
    spec = dimmable_light()
    spec.services.append(meter())
    device = FakeUpnpDevice(aioclient_mock, spec)
    entry = await setup_device(hass, device)
    watts = entity_registry.async_get(WATTS)
    assert watts is not None
    assert watts.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(WATTS) is None
    # The light the device is for is enabled as always.
    assert hass.states.get("light.hall_light") is not None

    entity_registry.async_update_entity(WATTS, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await device.initial_events(hass)
    state = hass.states.get(WATTS)
    assert state is not None
    assert state.state == "120"
    await hass.config_entries.async_unload(entry.entry_id)
