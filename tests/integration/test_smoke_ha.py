"""Smoke test: real Home Assistant loads and unloads a upnp_guard entry on the LAN."""

from __future__ import annotations

import socket

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import CONF_LOCATION, DOMAIN
from tests.lan import Host, Router

pytestmark = pytest.mark.lan


async def test_setup_and_unload_entry_against_real_router(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_LOCATION: router.description_url})
    entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    device = entry.runtime_data.device
    assert device.device_type == "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
    assert device.friendly_name == "UPnP Guard test router"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_unreachable_device_retries_setup(
    ha_host: Host, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    # A port on the Home Assistant host itself where nothing listens: refused at once.
    with socket.socket() as probe:
        probe.bind((ha_host.ip, 0))
        closed_port = probe.getsockname()[1]
    entry = MockConfigEntry(
        domain=DOMAIN, data={CONF_LOCATION: f"http://{ha_host.ip}:{closed_port}/desc.xml"}
    )
    entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert f"{ha_host.ip}:{closed_port}" in (entry.reason or "")
