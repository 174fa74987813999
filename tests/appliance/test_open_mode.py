"""An agent in open mode takes commands from anyone on the LAN: Home Assistant raises a
repair issue for it (DESIGN, trust model), and only for it."""

from __future__ import annotations

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.appliance.agent_info import open_mode_issue_id
from custom_components.upnp_guard.appliance.const import AGENT_INFO
from custom_components.upnp_guard.const import DOMAIN

from .conftest import FakeUpnpDevice, setup_device


def open_mode_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, open_mode_issue_id(entry.entry_id))


async def test_agent_in_open_mode_raises_a_warning(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    issue = open_mode_issue(hass, init_agent)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.translation_key == "agent_open_mode"
    assert issue.translation_placeholders == {"name": agent_device.spec.friendly_name}


@pytest.mark.usefixtures("ssdp_hub", "socket_enabled", "enable_custom_integrations")
async def test_issue_goes_when_the_agent_reports_another_mode(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = await setup_device(hass, agent_device)
    assert open_mode_issue(hass, entry) is not None
    # The board is re-flashed in paired mode; the entry reads the mode again, and asks
    # for the key (tests/appliance/test_paired_agent.py goes on from there).
    agent_device.state(agent_device.spec.udn, AGENT_INFO).values["SecurityMode"] = "paired"
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert open_mode_issue(hass, entry) is None
    assert entry.state is ConfigEntryState.SETUP_ERROR
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("ssdp_hub", "socket_enabled", "enable_custom_integrations")
async def test_issue_goes_with_the_entry(hass: HomeAssistant, agent_device: FakeUpnpDevice) -> None:
    entry = await setup_device(hass, agent_device)
    assert open_mode_issue(hass, entry) is not None
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert open_mode_issue(hass, entry) is None


async def test_no_issue_for_appliances_without_a_security_mode(
    hass: HomeAssistant, init_light: MockConfigEntry
) -> None:
    assert open_mode_issue(hass, init_light) is None
    assert not [
        issue for (domain, _), issue in ir.async_get(hass).issues.items() if domain == DOMAIN
    ]
