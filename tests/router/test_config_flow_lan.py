"""Router config flow (SSDP discovery) and the policy options flow."""

from __future__ import annotations

import time
from unittest.mock import patch

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import SOURCE_SSDP, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.const import (
    CONF_KIND,
    CONF_LOCATION,
    DOMAIN,
    MOVE_CHECK_INTERVAL_S,
)
from custom_components.upnp_guard.location import MoveRefusal
from custom_components.upnp_guard.router.const import (
    CONF_ADD_CLIENTS,
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
)
from tests.lan import Host, Router

from .conftest import async_setup_router, router_udn

pytestmark = pytest.mark.lan

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


def _discovery(router: Router, udn: str) -> SsdpServiceInfo:
    """An announcement of the router from its own address (`_host`, as HA passes it)."""
    return SsdpServiceInfo(
        ssdp_usn=f"{udn}::{IGD2}",
        ssdp_st=IGD2,
        ssdp_location=router.description_url,
        ssdp_headers={"_host": router.ip},
        upnp={"deviceType": IGD2, "UDN": udn, "friendlyName": "Home router"},
    )


async def test_ssdp_discovery_creates_one_router_entry(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    udn = router_udn(router)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(router, udn)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "router_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "UPnP Guard test router"
    assert result["data"][CONF_KIND] == "router"
    assert result["data"][CONF_LOCATION] == router.description_url
    await hass.async_block_till_done()

    # The same router announcing itself at another spelling of its location, from its
    # own address: never a second entry, and no move while the old location still
    # answers as this router (location.py): a repair issue says what was seen.
    entries = hass.config_entries.async_entries(DOMAIN)
    entry = entries[0]
    first_runtime = entry.runtime_data
    moved = _discovery(router, udn)
    moved.ssdp_location = router.description_url + "#moved"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=moved
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert entry.data[CONF_LOCATION] == router.description_url
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is first_runtime
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"location_move_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["reason"] == MoveRefusal.OLD_ANSWERS.value

    # The user ignores it: the issue goes and the same move is not raised again.
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "ignore"})
    assert result["type"] == FlowResultType.CREATE_ENTRY
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None
    with patch(
        "custom_components.upnp_guard.location.time.monotonic",
        return_value=time.monotonic() + MOVE_CHECK_INTERVAL_S + 1,
    ):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_SSDP}, data=moved
        )
    assert result["reason"] == "already_configured"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None
    assert entry.data[CONF_LOCATION] == router.description_url


async def test_incomplete_discovery_and_unreachable_router_abort(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    bare = _discovery(router, router_udn(router))
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


async def test_confirm_refuses_a_router_with_another_udn_than_announced(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(router, "uuid:not-this-one")
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert not hass.config_entries.async_entries(DOMAIN)


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
