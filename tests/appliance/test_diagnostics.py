"""Diagnostics of an appliance entry: snapshot, with callback and control URLs redacted."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.upnp_guard.agent_auth import format_key
from custom_components.upnp_guard.diagnostics import async_get_config_entry_diagnostics

from .conftest import FakeUpnpDevice, entry_for


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


# A pairing key as the agent prints it (base64 of 32 bytes); never in a diagnostics file.
PAIRING_KEY = format_key(bytes(range(7, 39)))


async def test_diagnostics_redact_a_key_in_entry_data_and_options(
    hass: HomeAssistant, init_agent: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        init_agent,
        data={**init_agent.data, "key": PAIRING_KEY},
        options={"key": PAIRING_KEY[::-1], "bundle_dir": "/config/bundles"},
    )
    result = await async_get_config_entry_diagnostics(hass, init_agent)
    assert PAIRING_KEY not in repr(result)
    assert PAIRING_KEY[::-1] not in repr(result)
    assert result["entry"]["data"]["key"] == "**REDACTED**"
    assert result["entry"]["options"]["key"] == "**REDACTED**"
    # What is no secret stays readable.
    assert result["entry"]["options"]["bundle_dir"] == "/config/bundles"


async def test_diagnostics_of_an_entry_that_is_not_loaded(
    hass: HomeAssistant, init_agent: MockConfigEntry
) -> None:
    """Setup failed or the entry is unloaded: no runtime data, still a report (no crash),
    with what is stored, its state, and the key still redacted."""
    hass.config_entries.async_update_entry(init_agent, data={**init_agent.data, "key": PAIRING_KEY})
    assert await hass.config_entries.async_unload(init_agent.entry_id)
    result = await async_get_config_entry_diagnostics(hass, init_agent)
    assert result["state"] == "not_loaded"
    assert result["entry"]["data"]["udn"] == init_agent.data["udn"]
    assert PAIRING_KEY not in repr(result)
    assert result["entry"]["data"]["key"] == "**REDACTED**"


@pytest.mark.usefixtures("ssdp_hub", "socket_enabled", "enable_custom_integrations")
async def test_diagnostics_of_a_failed_setup_do_not_quote_the_event_url(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    """The agent answers SUBSCRIBE with more than the transport takes: setup is retried,
    and its reason (which quotes the event URL, the agent's token in it) shows in the
    diagnostics with the URL's path redacted."""
    agent_device.oversize_subscribe = True
    entry = entry_for(agent_device)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.reason is not None
    assert "/event" in entry.reason
    result = await async_get_config_entry_diagnostics(hass, entry)
    assert result["state"] == "setup_retry"
    assert "/event" not in repr(result)
    assert "ResponseTooLarge('SUBSCRIBE http://127.0.0.1:49152/**REDACTED**" in result["reason"]
    # The stored location is no secret, and stays whole.
    assert result["entry"]["data"]["location"] == agent_device.location
