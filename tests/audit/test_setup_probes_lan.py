"""An audit entry set up with the probes on: setup waits only for a passive run; the
probing run follows in the background."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.audit.const import AUDIT_UNIQUE_ID, CONF_ACTIVE_PROBES
from custom_components.upnp_guard.const import CONF_KIND, DOMAIN, EntryKind
from tests.lan import Host, Router
from tests.lan.waits import wait_for

pytestmark = pytest.mark.lan


async def test_setup_is_passive_then_probes(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    assert await async_setup_component(hass, "ssdp", {})
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=AUDIT_UNIQUE_ID,
        data={CONF_KIND: EntryKind.AUDIT.value},
        options={CONF_ACTIVE_PROBES: True},
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    with patch("custom_components.upnp_guard.audit.coordinator.DISCOVERY_DEBOUNCE_S", 1.0):
        assert await hass.config_entries.async_setup(entry.entry_id)
        assert entry.state is ConfigEntryState.LOADED
        runner = entry.runtime_data.coordinator.runner
        assert runner.probes.enabled
        assert runner.probes.probed == 0  # setup did not wait for a probe
        await wait_for(lambda: runner.probes.probed > 0, "the probing run after setup")
    assert "AddPortMapping" in router.daemon.output()  # type: ignore[union-attr]
