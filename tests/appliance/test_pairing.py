"""Pairing with a paired agent in the config flow (appliance/pairing.py): the key is
checked with a signed GetInfo that the fake agent runs through the firmware's Verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_SSDP, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.upnp_guard.agent_auth import format_key
from custom_components.upnp_guard.const import CONF_KEY, DOMAIN

from .conftest import FakeUpnpDevice
from .test_config_flow import AGENT_ST, discovery, lan_agent, lan_setup_skipped  # noqa: F401

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "ssdp_hub", "socket_enabled")

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "auth_v1.json").read_text())
KEY = VECTORS["key_base64"]
WRONG_KEY = format_key(bytes(range(32)))


async def test_paired_agent_asks_for_its_key(
    hass: HomeAssistant,
    lan_agent: FakeUpnpDevice,  # noqa: F811
) -> None:
    lan_agent.pair(KEY)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(lan_agent)
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pair"
    flow_id = result["flow_id"]
    # Not a key at all: refused before anything is sent to the agent.
    for garbage in ("", "hunter2", KEY[:-4], "A" * 44, "not base64 at all!!!!" * 2):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: garbage})
        assert result["errors"] == {"base": "invalid_key"}, garbage
    assert lan_agent.refused == []
    # The agent unreachable for a moment: a connection error, and the step stays.
    lan_agent.offline = True
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: KEY})
    assert result["errors"] == {"base": "cannot_connect"}
    lan_agent.offline = False
    # A well-formed key that is not this agent's: the agent refuses the signed read.
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: WRONG_KEY})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_key"}
    assert lan_agent.refused == ["bad_mac"]
    assert not hass.config_entries.async_entries(DOMAIN)
    # The right key (as pasted, with a stray newline): the entry keeps it.
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: f" {KEY}\n"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_KEY] == KEY
    assert result["data"]["udn"] == lan_agent.spec.udn
    # The signed GetInfo was accepted by the firmware's verifier (no new refusal).
    assert lan_agent.refused == ["bad_mac"]
    assert lan_agent.verifier.highest > 0


async def test_paired_agent_picked_in_user_step_asks_for_its_key(
    hass: HomeAssistant,
    ssdp_hub: object,
    lan_agent: FakeUpnpDevice,  # noqa: F811
) -> None:
    lan_agent.pair(KEY, boot_id=12)
    ssdp_hub.discoveries[AGENT_ST] = [discovery(lan_agent)]  # type: ignore[attr-defined]
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"discovered": lan_agent.spec.udn}
    )
    assert result["step_id"] == "pair"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_KEY: KEY})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_KEY] == KEY


async def test_open_agent_needs_no_key(
    hass: HomeAssistant,
    lan_agent: FakeUpnpDevice,  # noqa: F811
) -> None:
    lan_agent.state(lan_agent.spec.udn, "urn:upnp-guard-org:service:AgentInfo:1").values[
        "SecurityMode"
    ] = "open"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(lan_agent)
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_KEY not in result["data"]
