"""Router entries added by URL, reconfigured and re-authenticated through the real flows.

A loaded router entry has an update listener (a new location reconnects it); Home
Assistant refuses `async_update_reload_and_abort` for such entries from 2026.12 and
reports its use until then, which the suite's deprecation guard (tests/conftest.py)
turns into a failure.
"""

from __future__ import annotations

import pytest
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.upnp_guard.const import CONF_KIND, CONF_LOCATION, DOMAIN
from tests.lan import Host, Lan, Router

pytestmark = pytest.mark.lan

MOVED_PORT = 5001


async def _add_by_url(hass: HomeAssistant, router: Router) -> ConfigEntry:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: router.description_url}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"][CONF_KIND] == "router"
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    # The unique id is the router's UDN, as its miniupnpd.conf sets it.
    conf = dict(
        line.split("=", 1) for line in router.conf_path.read_text().splitlines() if "=" in line
    )
    assert entry.unique_id == f"uuid:{conf['uuid']}"
    return entry


def _move(router: Router, udn: str, port: int) -> None:
    """Restart miniupnpd serving its description on another port (same UDN)."""
    router.http_port = port
    router.start_miniupnpd(extra_options={"uuid": udn.removeprefix("uuid:")})


async def test_reconfigure_router_to_a_new_location(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    entry = await _add_by_url(hass, router)
    old_runtime = entry.runtime_data
    udn = entry.unique_id
    assert udn is not None
    await hass.async_add_executor_job(_move, router, udn, MOVED_PORT)

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: router.description_url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    # The entry's update listener reconnected it to the new location.
    assert entry.data[CONF_LOCATION] == router.description_url
    assert f":{MOVED_PORT}/" in entry.data[CONF_LOCATION]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not old_runtime
    assert entry.runtime_data.device.device_url == router.description_url

    # Re-authentication (same location) checks the router and changes nothing.
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_REAUTH, "entry_id": entry.entry_id},
        data=dict(entry.data),
    )
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_router_refuses_bad_input_and_keeps_the_entry(
    ha_host: Host,
    lan: Lan,
    router: Router,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    entry = await _add_by_url(hass, router)
    location = router.description_url
    runtime = entry.runtime_data

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    for bad, error in (
        ("ftp://" + router.ip + "/rootDesc.xml", "invalid_url"),
        (f"http://{router.ip}:{MOVED_PORT}/rootDesc.xml", "cannot_connect"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_LOCATION: bad}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": error}

    # Another router (a new UDN) at the new location is not this entry's device.
    await hass.async_add_executor_job(
        _move, router, "uuid:ffffffff-0000-4000-8000-000000000001", MOVED_PORT
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: router.description_url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    await hass.async_block_till_done()
    assert entry.data[CONF_LOCATION] == location
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is runtime


async def test_user_step_with_a_configured_router_never_moves_it(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Typing a configured router's URL again says it is configured and changes nothing:
    reconfigure (which checks the UDN) is the deliberate way to move an entry."""
    entry = await _add_by_url(hass, router)
    old_runtime = entry.runtime_data
    location = entry.data[CONF_LOCATION]
    # Another spelling of the same description URL (the fragment is never sent).
    spelling = router.description_url + "#again"

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: spelling}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entry.data[CONF_LOCATION] == location
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is old_runtime
