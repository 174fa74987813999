"""A router entry whose device is not (or no longer) an IGD, or cannot be reached, waits
for a retry with a clear reason instead of failing or setting up half a router. (Here for
the scripted devices of the appliance suite; the router suite runs a real miniupnpd.)"""

from __future__ import annotations

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.const import CONF_UDN
from custom_components.upnp_guard.diagnostics import async_get_config_entry_diagnostics
from tests.router.conftest import router_entry

from .conftest import FakeUpnpDevice


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_router_entry_on_a_device_that_is_not_an_igd_retries(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    # The entry's device (its UDN) no longer calls itself an IGD.
    entry = router_entry(light_device.location, light_device.spec.udn, typed=True)
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
    entry = router_entry(light_device.location, "uuid:router-units", typed=True)
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
    entry = router_entry(light_device.location, light_device.spec.udn, typed=True)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    result = await async_get_config_entry_diagnostics(hass, entry)
    assert result["state"] == ConfigEntryState.SETUP_RETRY.value
    assert "DimmableLight" in result["reason"]
    assert result["entry"]["data"][CONF_UDN] == "**REDACTED**"
