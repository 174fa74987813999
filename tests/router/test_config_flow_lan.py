"""Router config flow (SSDP discovery) and the policy options flow."""

from __future__ import annotations

import pytest
from homeassistant.config_entries import SOURCE_SSDP, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from custom_components.upnp_guard.const import CONF_KIND, CONF_LOCATION, DOMAIN
from custom_components.upnp_guard.router.const import (
    CONF_ADD_CLIENTS,
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
)
from tests.lan import Host, Router

from .conftest import async_setup_router

pytestmark = pytest.mark.lan

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


def _discovery(router: Router, udn: str = "uuid:router-1") -> SsdpServiceInfo:
    return SsdpServiceInfo(
        ssdp_usn=f"{udn}::{IGD2}",
        ssdp_st=IGD2,
        ssdp_location=router.description_url,
        upnp={"deviceType": IGD2, "UDN": udn, "friendlyName": "Home router"},
    )


async def test_ssdp_discovery_creates_one_router_entry(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(router)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "router_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "UPnP Guard test router"
    assert result["data"][CONF_KIND] == "router"
    assert result["data"][CONF_LOCATION] == router.description_url
    await hass.async_block_till_done()

    # The same router announcing itself again (new location) updates, never duplicates.
    entries = hass.config_entries.async_entries(DOMAIN)
    first_runtime = entries[0].runtime_data
    moved = _discovery(router)
    moved.ssdp_location = router.description_url + "?moved=1"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=moved
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    entries = hass.config_entries.async_entries(DOMAIN)
    assert len(entries) == 1
    assert entries[0].data[CONF_LOCATION] == moved.ssdp_location
    # The entry's update listener reconnects to the new location (which miniupnpd does
    # not serve: the entry waits to retry), and back when the router announces the old one.
    await hass.async_block_till_done()
    assert entries[0].state is ConfigEntryState.SETUP_RETRY
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(router)
    )
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entries[0].state is ConfigEntryState.LOADED
    assert entries[0].runtime_data is not first_runtime
    assert entries[0].runtime_data.device.device_url == router.description_url


async def test_incomplete_discovery_and_unreachable_router_abort(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    bare = _discovery(router)
    bare.upnp = {"deviceType": IGD2}
    bare.ssdp_udn = None
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=bare
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "incomplete_discovery"

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(router, "uuid:router-2")
    )
    await hass.async_add_executor_job(router.stop_miniupnpd)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_options_flow_rejects_bad_rules_then_saves_normalised_policy(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    entry = await async_setup_router(hass, router)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    base = {CONF_MODE: "monitor", CONF_GRACE_PERIOD: 60, CONF_ADD_CLIENTS: []}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_ALLOW_RULES: ["10.0.0.5 70000 TCP"]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ALLOW_RULES: "invalid_rule"}
    assert "70000" in result["description_placeholders"]["problem"]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_ALLOW_RULES: [], CONF_ADD_CLIENTS: ["not-an-ip"]}
    )
    assert result["errors"] == {CONF_ADD_CLIENTS: "invalid_client"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **base,
            CONF_ALLOW_RULES: ["10.0.0.5/32 3074 udp", "* 8000-8100 * cam*"],
            CONF_ADD_CLIENTS: ["10.0.0.9"],
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_MODE: "monitor",
        CONF_GRACE_PERIOD: 60,
        CONF_ALLOW_RULES: ["10.0.0.5 3074 UDP", "* 8000-8100 * cam*"],
        CONF_ADD_CLIENTS: ["10.0.0.9"],
    }
    policy = entry.runtime_data.coordinator.policy
    assert len(policy.rules) == 2
    assert policy.add_clients == {"10.0.0.9"}
