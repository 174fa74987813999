"""Actions upnp_guard.call_action and upnp_guard.get_variables."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import DOMAIN
from tests.router.conftest import router_entry

from .conftest import FakeUpnpDevice


def device_id(hass: HomeAssistant, entry: MockConfigEntry, udn: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, udn), entry.entry_id)
    assert device is not None
    return device.id


async def call(hass: HomeAssistant, action_name: str, **data: object) -> object:
    return await hass.services.async_call(
        DOMAIN, action_name, data, blocking=True, return_response=True
    )


async def test_call_action_returns_output(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    relay = device_id(hass, init_agent, f"{agent_device.spec.udn}-relay1")
    # Strings from YAML are converted by the SCPD's type (boolean here).
    assert (
        await call(
            hass,
            "call_action",
            device_id=relay,
            service="SwitchPower",
            action="SetTarget",
            arguments={"newTargetValue": "1"},
        )
        == {}
    )
    assert agent_device.calls[-1] == ("SetTarget", {"newTargetValue": "1"})
    result = await call(
        hass,
        "call_action",
        device_id=relay,
        service="urn:schemas-upnp-org:service:SwitchPower:1",
        action="GetStatus",
    )
    assert result == {"ResultStatus": True}
    root = device_id(hass, init_agent, agent_device.spec.udn)
    info = await call(
        hass,
        "call_action",
        device_id=root,
        service="urn:upnp-guard-org:serviceId:AgentInfo",
        action="GetInfo",
    )
    assert info == {
        "FirmwareVersion": "0.1.0",
        "BootId": 7,
        "SecurityMode": "open",
        "Uptime": 3600,
    }


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"service": "Printing", "action": "GetStatus"}, "unknown_service"),
        ({"service": "SwitchPower", "action": "SelfDestruct"}, "unknown_action"),
        ({"service": "SwitchPower", "action": "SetTarget"}, "argument_mismatch"),
        (
            {
                "service": "SwitchPower",
                "action": "SetTarget",
                "arguments": {"x": 1, "newTargetValue": 1},
            },
            "argument_mismatch",
        ),
        (
            {
                "service": "SwitchPower",
                "action": "SetTarget",
                "arguments": {"newTargetValue": "maybe"},
            },
            "invalid_argument",
        ),
    ],
)
async def test_call_action_bad_input(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    data: dict[str, object],
    key: str,
) -> None:
    relay = device_id(hass, init_agent, f"{agent_device.spec.udn}-relay1")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "call_action", device_id=relay, **data)
    assert err.value.translation_key == key
    assert not any(name == "SetTarget" for name, _ in agent_device.calls)
    # And the action still works afterwards.
    assert await call(
        hass, "call_action", device_id=relay, service="SwitchPower", action="GetStatus"
    ) == {"ResultStatus": False}


async def test_call_action_out_of_range_refused_before_sending(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    lamp = device_id(hass, init_agent, f"{agent_device.spec.udn}-dimmer")
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "call_action",
            device_id=lamp,
            service="Dimming",
            action="SetLoadLevelTarget",
            arguments={"newLoadlevelTarget": 101},
        )
    assert err.value.translation_key == "invalid_argument"
    assert not agent_device.calls or agent_device.calls[-1][0] != "SetLoadLevelTarget"


async def test_call_action_device_error_has_upnp_code(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    relay = device_id(hass, init_agent, f"{agent_device.spec.udn}-relay1")
    agent_device.soap_fault = (606, "Action not authorized")
    with pytest.raises(HomeAssistantError, match="606") as err:
        await call(hass, "call_action", device_id=relay, service="SwitchPower", action="GetStatus")
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "action_failed"


async def test_unknown_device(hass: HomeAssistant, init_agent: MockConfigEntry) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_variables", device_id="nope")
    assert err.value.translation_key == "unknown_device"


async def test_get_variables(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    sensor = device_id(hass, init_agent, f"{agent_device.spec.udn}-sensor")
    result = await call(hass, "get_variables", device_id=sensor)
    assert result == {
        "urn:upnp-org:serviceId:TemperatureSensor": {"CurrentTemperature": 2150},
        "urn:upnp-guard-org:serviceId:HumiditySensor": {"CurrentHumidity": 4550},
    }


async def test_not_loaded_entry(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    relay = device_id(hass, init_agent, f"{agent_device.spec.udn}-relay1")
    await hass.config_entries.async_unload(init_agent.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_variables", device_id=relay)
    assert err.value.translation_key == "device_not_loaded"


async def test_appliance_action_on_a_router_device_says_it_is_a_router(
    hass: HomeAssistant, init_agent: MockConfigEntry
) -> None:
    """A router's device named to an appliance action: the kind is told, not "not loaded"."""
    router = router_entry("http://192.168.1.1:5000/rootDesc.xml", "uuid:router-0001")
    router.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=router.entry_id, identifiers={(DOMAIN, "uuid:router-0001")}, name="Box"
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_variables", device_id=device.id)
    assert err.value.translation_key == "device_is_router"
    assert err.value.translation_placeholders == {"device": "Box"}
    # The appliance's own devices still answer.
    sensor = device_id(hass, init_agent, "uuid:agent-0001-sensor")
    assert await call(hass, "get_variables", device_id=sensor)


async def test_router_action_on_an_appliance_entry_says_it_is_no_router(
    hass: HomeAssistant, init_agent: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "list_port_mappings", config_entry_id=init_agent.entry_id)
    assert err.value.translation_key == "entry_not_router"
    assert err.value.translation_placeholders == {"entry": init_agent.title}
    # An id that names no entry at all is still "no router".
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "list_port_mappings", config_entry_id="nope")
    assert err.value.translation_key == "router_not_found"
