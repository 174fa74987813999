"""Boolean state variables (SwitchPower Status, BinaryInput State) as devices send them:
a device whose SCPD declares them as strings sends "0"/"1" text, which must read as off
and on (not as a non-empty string, which Python calls true); a word no UPnP boolean
uses is unknown."""

from __future__ import annotations

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.appliance.light import DIMMABLE_LIGHT
from custom_components.upnp_guard.appliance.switch import POWER
from tests.fakes.appliances import DIMMING, SWITCH_POWER, dimming, switch_power
from tests.fakes.upnp_device import DeviceSpec, FakeUpnpDevice

from .conftest import setup_device

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations", "ssdp_hub")

UDN = "uuid:sloppy-plug-0001"


def sloppy_plug() -> DeviceSpec:
    """A plug whose SCPD types Target and Status as strings (seen on cheap firmware)."""
    return DeviceSpec(
        "urn:schemas-upnp-org:device:BinaryLight:1", UDN, "Sloppy plug", [switch_power("string")]
    )


async def test_string_typed_boolean_reads_as_the_device_means_it(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, entity_registry: er.EntityRegistry
) -> None:
    device = FakeUpnpDevice(aioclient_mock, sloppy_plug())
    entry = await setup_device(hass, device)
    entity_id = entity_registry.async_get_entity_id("switch", "upnp_guard", f"{UDN}_{POWER.key}")
    assert entity_id is not None
    assert hass.states.get(entity_id).state == STATE_OFF  # the initial event: "0"
    for text, expected in (
        ("1", STATE_ON),
        ("false", STATE_OFF),
        ("YES", STATE_ON),
        (" 0 ", STATE_OFF),
        ("maybe", STATE_UNKNOWN),
        ("true", STATE_ON),
    ):
        await device.change(hass, UDN, SWITCH_POWER, Status=text)
        await hass.async_block_till_done()
        assert hass.states.get(entity_id).state == expected, text
    await hass.config_entries.async_unload(entry.entry_id)


def sloppy_dimmer() -> DeviceSpec:
    """A dimmable light whose SCPD types its states as strings (on, at 50 %)."""
    return DeviceSpec(
        "urn:schemas-upnp-org:device:DimmableLight:1",
        "uuid:sloppy-dimmer-0001",
        "Sloppy dimmer",
        [switch_power("string", status="1"), dimming("string", level="50")],
    )


async def test_a_load_level_that_is_no_number_is_an_unknown_brightness(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, entity_registry: er.EntityRegistry
) -> None:
    """The light keeps its state (on/off) and says it does not know the brightness."""
    device = FakeUpnpDevice(aioclient_mock, sloppy_dimmer())
    entry = await setup_device(hass, device)
    udn = device.spec.udn
    entity_id = entity_registry.async_get_entity_id(
        "light", "upnp_guard", f"{udn}_{DIMMABLE_LIGHT.key}"
    )
    assert entity_id is not None
    assert hass.states.get(entity_id).attributes[ATTR_BRIGHTNESS] == 128
    await device.change(hass, udn, DIMMING, LoadLevelStatus="half")
    await device.change(hass, udn, SWITCH_POWER, Status="1")
    await hass.async_block_till_done()
    state = hass.states.get(entity_id)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_BRIGHTNESS] is None
    # A number again: the brightness is back.
    await device.change(hass, udn, DIMMING, LoadLevelStatus="100")
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).attributes[ATTR_BRIGHTNESS] == 255
    await hass.config_entries.async_unload(entry.entry_id)
