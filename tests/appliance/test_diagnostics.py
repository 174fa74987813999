"""Diagnostics of an appliance entry: snapshot, with callback and control URLs redacted."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.upnp_guard.diagnostics import async_get_config_entry_diagnostics

from .conftest import FakeUpnpDevice


async def test_diagnostics(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    snapshot: SnapshotAssertion,
) -> None:
    result = await async_get_config_entry_diagnostics(hass, init_agent)
    assert result == snapshot(exclude=props("entry_id", "created_at", "modified_at"))
    text = repr(result)
    assert "/control" not in text
    assert "/event" not in text
    assert "127.0.0.1:" in text  # the description and SCPD URLs are not secrets
    assert init_agent.runtime_data.event_handler.callback_url not in text
