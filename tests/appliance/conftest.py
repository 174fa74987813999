"""Fixtures for appliance tests without a LAN: the scripted devices of tests/fakes/ behind
aioclient_mock, entries made for them, and Home Assistant's SSDP replaced by a hub.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_component
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_TYPED_HOST,
    CONF_UDN,
    DOMAIN,
)
from custom_components.upnp_guard.transport import url_host
from tests.fakes.appliances import (
    AGENT_INFO,
    BINARY_INPUT,
    DIMMING,
    HUMIDITY,
    SWITCH_POWER,
    TEMPERATURE,
    agent,
    dimmable_light,
)
from tests.fakes.ssdp import SsdpHub
from tests.fakes.upnp_device import (
    LAN_BASE_URL,
    DeviceSpec,
    FakeUpnpDevice,
    ServiceSpec,
    scpd_xml,
)

# The appliance tests import the simulator from here, as they did before it moved.
__all__ = [
    "AGENT_INFO",
    "BINARY_INPUT",
    "DIMMING",
    "HUMIDITY",
    "LAN_BASE_URL",
    "SWITCH_POWER",
    "TEMPERATURE",
    "DeviceSpec",
    "FakeUpnpDevice",
    "ServiceSpec",
    "SsdpHub",
    "agent",
    "dimmable_light",
    "entry_for",
    "scpd_xml",
    "setup_device",
]


@pytest.fixture
def ssdp_hub(hass: HomeAssistant) -> Generator[SsdpHub]:
    """HA's ssdp and network integrations count as set up; SSDP goes through the hub."""
    mock_component(hass, "ssdp")
    mock_component(hass, "network")
    hub = SsdpHub()
    with (
        patch("homeassistant.components.ssdp.async_register_callback", side_effect=hub.register),
        patch(
            "homeassistant.components.ssdp.async_get_discovery_info_by_st", side_effect=hub.by_st
        ),
    ):
        yield hub


@pytest.fixture
def light_device(aioclient_mock: AiohttpClientMocker) -> FakeUpnpDevice:
    return FakeUpnpDevice(aioclient_mock, dimmable_light())


@pytest.fixture
def agent_device(aioclient_mock: AiohttpClientMocker) -> FakeUpnpDevice:
    device = FakeUpnpDevice(aioclient_mock, agent())
    info = device.state(device.spec.udn, AGENT_INFO)
    info.values.update(FirmwareVersion="0.1.0", SecurityMode="open", Uptime="3600")
    return device


def entry_for(device: FakeUpnpDevice) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=device.spec.udn,
        title=device.spec.friendly_name,
        data={
            CONF_KIND: "appliance",
            CONF_LOCATION: device.location,
            CONF_UDN: device.spec.udn,
            CONF_DEVICE_TYPE: device.spec.device_type,
            # These devices live on loopback (aioclient_mock), which is no LAN address:
            # the entries are made as if the user had typed the URL (transport.py).
            CONF_TYPED_HOST: url_host(device.location),
        },
    )


async def setup_device(hass: HomeAssistant, device: FakeUpnpDevice) -> MockConfigEntry:
    entry = entry_for(device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await device.initial_events(hass)
    return entry


@pytest.fixture
async def init_light(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    light_device: FakeUpnpDevice,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> AsyncGenerator[MockConfigEntry]:
    entry = await setup_device(hass, light_device)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def init_agent(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    agent_device: FakeUpnpDevice,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> AsyncGenerator[MockConfigEntry]:
    entry = await setup_device(hass, agent_device)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
