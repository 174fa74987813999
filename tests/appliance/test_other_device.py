"""A different device at the stored address (issue #10, item 9a): the entry waits for its
own device, raises `other_device`, and keeps its devices and entities."""

from __future__ import annotations

import dataclasses

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import DOMAIN

from .conftest import FakeUpnpDevice


def _registered(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[set[str], set[str]]:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    return {device.id for device in devices}, {entity.entity_id for entity in entities}


async def test_other_device_at_the_address_waits_and_keeps_devices(
    hass: HomeAssistant, init_agent: MockConfigEntry, agent_device: FakeUpnpDevice
) -> None:
    entry = init_agent
    devices, entities = _registered(hass, entry)
    assert len(devices) > 1  # the board and its embedded devices
    own_spec = agent_device.spec
    issue_id = f"other_device_{entry.entry_id}"

    # DHCP gave the address to another agent (another UDN, embedded devices and all).
    assert await hass.config_entries.async_unload(entry.entry_id)
    agent_device.spec = dataclasses.replace(own_spec, udn="uuid:someone-else")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert "someone-else" in issue.translation_placeholders["found"]
    assert _registered(hass, entry) == (devices, entities)
    assert "someone-else" in str(entry.reason)

    # The right device answers again: the retry loads it and the issue goes.
    agent_device.spec = own_spec
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await agent_device.initial_events(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert _registered(hass, entry) == (devices, entities)
