"""Config entry migration 1.1 -> 1.2: every entry stores its kind (it is required now).

Entries of 1.1 could lack the kind and were then set up as appliances; the migration
infers it from the stored device type, keeps what cannot be told an appliance (what it
always was), and refuses entries of a newer version (a downgrade) without touching them.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.appliance.connection import ApplianceConnection
from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_UDN,
    DOMAIN,
    ENTRY_MINOR_VERSION,
)
from custom_components.upnp_guard.router.data import RouterData
from tests.lan import Host, Router

pytestmark = pytest.mark.lan

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


async def _setup_legacy(
    hass: HomeAssistant, data: dict[str, Any], *, version: int = 1
) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, version=version, minor_version=1, data=data)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_router_entry_without_kind_becomes_a_router(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    entry = await _setup_legacy(
        hass,
        {CONF_LOCATION: router.description_url, CONF_UDN: "uuid:old", CONF_DEVICE_TYPE: IGD2},
    )
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == ENTRY_MINOR_VERSION
    assert entry.data[CONF_KIND] == "router"
    assert entry.data[CONF_LOCATION] == router.description_url  # nothing else changed
    assert isinstance(entry.runtime_data, RouterData)


async def test_entry_without_kind_or_device_type_stays_an_appliance(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    entry = await _setup_legacy(hass, {CONF_LOCATION: router.description_url})
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_KIND] == "appliance"
    assert isinstance(entry.runtime_data, ApplianceConnection)


async def test_entry_with_a_kind_keeps_it_and_a_newer_entry_is_refused(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    kept = await _setup_legacy(hass, {CONF_KIND: "router", CONF_LOCATION: router.description_url})
    assert kept.state is ConfigEntryState.LOADED
    assert kept.minor_version == ENTRY_MINOR_VERSION
    assert kept.data[CONF_KIND] == "router"

    newer = await _setup_legacy(
        hass, {CONF_LOCATION: router.description_url, CONF_UDN: "uuid:new"}, version=2
    )
    assert newer.state is ConfigEntryState.MIGRATION_ERROR
    assert CONF_KIND not in newer.data
    # The refused entry takes nothing down with it.
    assert kept.state is ConfigEntryState.LOADED
