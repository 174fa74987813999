"""Which router entities start enabled: the audit ones; traffic figures start disabled."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from tests.lan import Host, Router

from .conftest import async_setup_router

pytestmark = pytest.mark.lan

TRAFFIC = ("bytes_received", "bytes_sent", "download_rate", "upload_rate")
AUDIT = ("port_mappings", "policy_violations", "external_ip", "wan_connected")


async def test_traffic_sensors_start_disabled_and_work_once_enabled(
    ha_host: Host,
    router: Router,
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    enable_custom_integrations: None,
) -> None:
    entry = await async_setup_router(hass, router)
    by_key = {
        entity.translation_key: entity
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert set(by_key) == {*TRAFFIC, *AUDIT}
    for key in TRAFFIC:
        assert by_key[key].disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
        assert hass.states.get(by_key[key].entity_id) is None
    for key in AUDIT:
        assert by_key[key].disabled_by is None, key
        assert hass.states.get(by_key[key].entity_id) is not None

    received = by_key["bytes_received"].entity_id
    entity_registry.async_update_entity(received, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(received)
    assert state is not None
    assert float(state.state) >= 0
