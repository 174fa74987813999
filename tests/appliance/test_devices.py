"""Device registry upkeep: embedded devices gone from a description are removed at setup,
and the user may delete a stale device but never a live one."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.upnp_guard.const import DOMAIN

from .conftest import FakeUpnpDevice, entry_for

GONE = "uuid:agent-0001-removed-relay"


async def remove_device(
    hass: HomeAssistant, ws: WebSocketGenerator, device_id: str
) -> dict[str, Any]:
    """What the device page's Delete button sends."""
    assert await async_setup_component(hass, "config", {})
    client = await ws(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove",
            "device_id": device_id,
        }
    )
    response: dict[str, Any] = await client.receive_json()
    return response


def root_device(
    registry: dr.DeviceRegistry, device: FakeUpnpDevice, entry: MockConfigEntry
) -> dr.DeviceEntry:
    """The registry's device for the root of `device`, as `entry` registered it."""
    root = registry.async_get_device_by_identifier((DOMAIN, device.spec.udn), entry.entry_id)
    assert root is not None
    return root


@pytest.mark.usefixtures("ssdp_hub", "socket_enabled", "enable_custom_integrations")
async def test_setup_removes_embedded_devices_gone_from_the_description(
    hass: HomeAssistant,
    agent_device: FakeUpnpDevice,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    entry = entry_for(agent_device)
    entry.add_to_hass(hass)
    # A relay the board had before its config changed, with an entity.
    stale = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, GONE)}, name="Old relay"
    )
    entity_registry.async_get_or_create(
        "switch", DOMAIN, f"{GONE}_switch", config_entry=entry, device_id=stale.id
    )
    # Another integration's device is not ours to touch.
    other_entry = MockConfigEntry(domain="other")
    other_entry.add_to_hass(hass)
    other = device_registry.async_get_or_create(
        config_entry_id=other_entry.entry_id, identifiers={("other", "x")}
    )

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert device_registry.async_get_device_by_identifier((DOMAIN, GONE), entry.entry_id) is None
    assert entity_registry.async_get_entity_id("switch", DOMAIN, f"{GONE}_switch") is None
    assert device_registry.async_get(other.id) is not None
    # Every device the description has is still there.
    kept = {
        value
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        for _, value in device.identifiers
    }
    udns = {agent_device.spec.udn, *(child.udn for child in agent_device.spec.embedded)}
    assert kept == udns
    assert len(udns) > 1  # embedded devices were checked, not only the root
    await hass.config_entries.async_unload(entry.entry_id)


async def test_user_may_delete_only_stale_devices(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    root = root_device(device_registry, agent_device, init_agent)
    refused = await remove_device(hass, hass_ws_client, root.id)
    assert not refused["success"]
    assert device_registry.async_get(root.id) is not None

    # One that appeared after setup (e.g. restored from a backup) and is not described.
    stale = device_registry.async_get_or_create(
        config_entry_id=init_agent.entry_id, identifiers={(DOMAIN, GONE)}
    )
    accepted = await remove_device(hass, hass_ws_client, stale.id)
    assert accepted["success"], accepted
    assert device_registry.async_get(stale.id) is None
    # The live devices and the entry are unaffected.
    assert device_registry.async_get(root.id) is not None
    assert init_agent.state.value == "loaded"


async def test_devices_of_an_unloaded_entry_may_be_deleted(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Unloaded, nothing is known to be live; setting the entry up again recreates them."""
    root = root_device(device_registry, agent_device, init_agent)
    assert await hass.config_entries.async_unload(init_agent.entry_id)
    accepted = await remove_device(hass, hass_ws_client, root.id)
    assert accepted["success"], accepted
    assert device_registry.async_get(root.id) is None
