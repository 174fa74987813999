"""A router entry whose device is not (or no longer) an IGD, or cannot be reached, waits
for a retry with a clear reason instead of failing or setting up half a router. (Here for
the scripted devices of the appliance suite; the router suite runs a real miniupnpd.)"""

from __future__ import annotations

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_TYPED_HOST,
    CONF_UDN,
    DOMAIN,
    EntryKind,
)
from custom_components.upnp_guard.diagnostics import async_get_config_entry_diagnostics
from custom_components.upnp_guard.transport import url_host

from .conftest import FakeUpnpDevice


def router_entry(location: str, udn: str = "uuid:router-units") -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=udn,
        title="Router",
        data={
            CONF_KIND: EntryKind.ROUTER.value,
            CONF_LOCATION: location,
            CONF_UDN: udn,
            CONF_DEVICE_TYPE: "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
            CONF_TYPED_HOST: url_host(location),  # loopback: as if the user typed it
        },
    )


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_router_entry_on_a_device_that_is_not_an_igd_retries(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    # The entry's device (its UDN) no longer calls itself an IGD.
    entry = router_entry(light_device.location, light_device.spec.udn)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert "DimmableLight" in entry.reason


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_unreachable_router_retries(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    light_device.offline = True
    entry = router_entry(light_device.location)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert light_device.location in entry.reason


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_diagnostics_of_a_router_entry_that_is_not_set_up(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    """The integration's diagnostics hand a router entry to the router's report, which
    tells why setup failed (the appliance report would need a loaded connection)."""
    entry = router_entry(light_device.location, light_device.spec.udn)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    result = await async_get_config_entry_diagnostics(hass, entry)
    assert result["state"] == ConfigEntryState.SETUP_RETRY.value
    assert "DimmableLight" in result["reason"]
    assert result["entry"]["data"][CONF_UDN] == "**REDACTED**"
