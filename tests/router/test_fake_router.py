"""Router entries without a LAN or root: the fake IGD of tests/fakes/igd.py.

The `*_lan` tests run the same integration against the real miniupnpd end to end; these
run everywhere and pin the entities, the audit, actions and events.
"""

from __future__ import annotations

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from tests.fakes.igd import FakeIgd, Row

from .conftest import async_setup_fake_router


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's serializer: registry ids and times are left out, as in core."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "socket_enabled")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_router_platform_snapshot(  # noqa: PLR0917
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    enable_custom_integrations: None,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    fake_igd.add_row(Row(4445, "TCP", "10.0.0.11", 445, description="smb"))
    fake_igd.add_row(Row(8080, "TCP", "10.0.0.12", 80))
    from unittest.mock import patch  # noqa: PLC0415

    with patch("custom_components.upnp_guard.router.PLATFORMS", [platform]):
        entry = await async_setup_fake_router(hass, fake_igd)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_smoke(hass: HomeAssistant, init_fake_router: MockConfigEntry) -> None:
    assert init_fake_router.runtime_data.coordinator.data is not None
