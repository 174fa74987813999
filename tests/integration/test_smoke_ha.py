"""Smoke test: real Home Assistant loads and unloads upnp_guard entries on the LAN."""

from __future__ import annotations

import socket

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import CONF_KIND, CONF_LOCATION, DOMAIN, EntryKind
from custom_components.upnp_guard.router.data import RouterData
from tests.fakes.igd import IGD2
from tests.lan import Host, Router
from tests.router.conftest import async_setup_router

pytestmark = pytest.mark.lan


async def test_setup_and_unload_router_entry_against_real_router(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    entry = await async_setup_router(hass, router)

    # The router path ran: a coordinator polled miniupnpd's WAN side and mapping table.
    assert isinstance(entry.runtime_data, RouterData)
    device = entry.runtime_data.device
    assert device.device_type == IGD2
    assert device.friendly_name == "UPnP Guard test router"
    assert entry.runtime_data.coordinator.data.wan.external_ip == router.wan_ip
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    by_key = {e.translation_key: e.entity_id for e in entities}
    assert set(by_key) >= {"port_mappings", "wan_connected"}
    wan_connected = hass.states.get(by_key["wan_connected"])
    assert wan_connected is not None
    assert wan_connected.state == "on"

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
        domain=DOMAIN,
        data={
            CONF_KIND: EntryKind.APPLIANCE.value,
            CONF_LOCATION: f"http://{ha_host.ip}:{closed_port}/desc.xml",
        },
    )
    entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert f"{ha_host.ip}:{closed_port}" in (entry.reason or "")
