"""Router diagnostics on the fake IGD: a secret stored in the entry never shows, loaded
or not (diagnostics_parts.entry_settings is shared with the appliance's)."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.agent_auth import format_key
from custom_components.upnp_guard.diagnostics import async_get_config_entry_diagnostics
from tests.fakes.igd import FakeIgd

from .conftest import async_setup_fake_router

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")

PAIRING_KEY = format_key(bytes(range(7, 39)))


async def test_router_diagnostics_redact_a_key_in_entry_data_and_options(
    hass: HomeAssistant, fake_igd: FakeIgd
) -> None:
    entry = await async_setup_fake_router(hass, fake_igd)
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, "key": PAIRING_KEY},
        options={**entry.options, "key": PAIRING_KEY[::-1]},
    )
    result = await async_get_config_entry_diagnostics(hass, entry)
    assert PAIRING_KEY not in repr(result)
    assert PAIRING_KEY[::-1] not in repr(result)
    assert result["entry"]["data"]["key"] == "**REDACTED**"
    assert result["entry"]["options"]["key"] == "**REDACTED**"
    # Not loaded: what is stored is reported, the key still redacted.
    assert await hass.config_entries.async_unload(entry.entry_id)
    result = await async_get_config_entry_diagnostics(hass, entry)
    assert result["state"] == "not_loaded"
    assert PAIRING_KEY not in repr(result)
    assert result["entry"]["data"]["key"] == "**REDACTED**"
