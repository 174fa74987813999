"""A loaded paired agent (paired.py, notify.py, appliance/__init__.py): its control and
GENA requests are signed and pass the firmware's Verifier in the fake agent; its events
must verify (real NOTIFYs over HTTP to the real notify server); a key the agent stopped
accepting starts the reauth flow, which asks for the key and reloads the entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_socket
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.agent_auth import AUTH_HEADER, format_key
from custom_components.upnp_guard.appliance.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.upnp_guard.const import CONF_KEY, DOMAIN
from custom_components.upnp_guard.notify import notify_server_pool
from custom_components.upnp_guard.paired import FORGED_EVENTS_THRESHOLD, paired_agents
from custom_components.upnp_guard.transport import device_requester
from tests.fakes.paired import firmware_auth

from .conftest import SWITCH_POWER, FakeUpnpDevice, entry_for

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations", "ssdp_hub")

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "auth_v1.json").read_text())
KEY = VECTORS["key_base64"]
NEW_KEY = format_key(bytes(range(100, 132)))
assert NEW_KEY != KEY
RELAY = "switch.relay_1"
REJECTED = "sensor.garage_agent_rejected_events"
DEVICE_ADDRESS = "127.0.0.1"


def paired_entry(device: FakeUpnpDevice, key: str = KEY) -> MockConfigEntry:
    entry = entry_for(device)
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=entry.unique_id,
        title=entry.title,
        data={**entry.data, CONF_KEY: key},
    )


async def setup_paired(hass: HomeAssistant, device: FakeUpnpDevice) -> MockConfigEntry:
    device.pair(KEY)
    entry = paired_entry(device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await device.initial_events(hass)
    return entry


def relay(device: FakeUpnpDevice):  # type: ignore[no-untyped-def]
    return device.state(f"{device.spec.udn}-relay1", SWITCH_POWER)


async def test_signed_control_reaches_the_paired_agent(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    await setup_paired(hass, agent_device)
    # Every subscription was signed (an unsigned SUBSCRIBE is refused by the fake agent).
    assert all(
        state.sid is not None
        for state in agent_device.services.values()
        if any(e for _t, e, _i in state.spec.variables.values())
        and state.spec.service_type != "urn:upnp-guard-org:service:AgentInfo:1"
    )
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: RELAY}, blocking=True)
    assert relay(agent_device).values["Target"] == "1"
    assert ("SetTarget", {"newTargetValue": "1"}) in agent_device.calls
    # The only refusal: the first request, signed before the boot id was known.
    assert agent_device.refused == ["wrong_boot"]
    # The same SetTarget without an authenticator (any host on the LAN) is refused.
    from async_upnp_client.const import HttpRequest  # noqa: PLC0415

    url = f"{agent_device.base_url}{relay(agent_device).base}/control"
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<s:Body><u:SetTarget xmlns:u="{SWITCH_POWER}"><newTargetValue>0</newTargetValue>'
        "</u:SetTarget></s:Body></s:Envelope>"
    )
    headers = {"SOAPAction": f'"{SWITCH_POWER}#SetTarget"', "Content-Type": "text/xml"}
    response = await device_requester(hass).async_http_request(
        HttpRequest("POST", url, headers, body)
    )
    assert response.status_code == 401
    assert agent_device.refused[-1] == "missing"
    assert relay(agent_device).values["Target"] == "1"


def reauth_flows(hass: HomeAssistant) -> list[Any]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == "reauth"
    ]


async def send_event(
    url: str, sid: str, seq: int, body: bytes, *, key: str | None = KEY, boot_id: int = 7
) -> int:
    """One NOTIFY over real HTTP from the agent's address, signed with `key` if given."""
    pytest_socket.socket_allow_hosts([DEVICE_ADDRESS])
    headers = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": str(seq)}
    if key is not None:
        secret = firmware_auth.Key(firmware_auth.parse_key(key))
        headers[AUTH_HEADER] = firmware_auth.event_header(secret, sid, seq, boot_id, body)
    async with (
        aiohttp.ClientSession() as session,
        session.request("NOTIFY", url, headers=headers, data=body) as response,
    ):
        return response.status


def status_event(value: str) -> bytes:
    return (
        '<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
        f"<e:property><Status>{value}</Status></e:property></e:propertyset>"
    ).encode()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_only_authentic_fresh_events_change_entities(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = await setup_paired(hass, agent_device)
    server = notify_server_pool(hass).server_for(DEVICE_ADDRESS)
    assert server is not None
    url = server.callback_url
    sid = relay(agent_device).sid
    assert sid is not None
    assert hass.states.get(RELAY).state == STATE_OFF
    on = status_event("1")
    # Unsigned, signed with another key, garbled: dropped, nothing changes.
    assert await send_event(url, sid, 1, on, key=None) == 412
    assert await send_event(url, sid, 1, on, key=NEW_KEY) == 412
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_OFF
    # The real one is taken...
    assert await send_event(url, sid, 1, on) == 200
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_ON
    # ... once: replayed (the same SEQ) or older, it is dropped.
    off = status_event("0")
    assert await send_event(url, sid, 1, off) == 412
    assert await send_event(url, sid, 0, off) == 412
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_ON
    agent = paired_agents(hass).for_url(agent_device.location)
    assert agent is not None
    assert dict(agent.rejected) == {"missing": 1, "forged": 1, "replayed": 2}
    assert agent.rejected_total == 4
    assert hass.states.get(REJECTED).state == "4"
    issue_id = f"forged_events_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    # They keep coming: a repair issue.
    assert await send_event(url, sid, 9, off, key=NEW_KEY) == 412
    assert agent.rejected_total == FORGED_EVENTS_THRESHOLD
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    # Diagnostics count them per reason, and never show the key.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["paired"]["rejected_events"] == {"missing": 1, "forged": 2, "replayed": 2}
    assert KEY not in str(diagnostics)
    assert diagnostics["entry"]["data"][CONF_KEY] == "**REDACTED**"
    # Bad input left the path working: the next real event still arrives.
    assert await send_event(url, sid, 2, off) == 200
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_OFF


async def test_reauth_after_the_agent_key_changed(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = await setup_paired(hass, agent_device)
    # The agent's key is changed behind Home Assistant's back (reprovisioned board).
    agent_device.pair(NEW_KEY)
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: RELAY}, blocking=True)
    assert relay(agent_device).values["Target"] == "0"
    await hass.async_block_till_done()
    flows = reauth_flows(hass)
    assert len(flows) == 1
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "reauth_key"
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: KEY})
    assert result["errors"] == {"base": "wrong_key"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: "AAAA"})
    assert result["errors"] == {"base": "invalid_key"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: NEW_KEY})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_KEY] == NEW_KEY
    assert entry.state is ConfigEntryState.LOADED
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: RELAY}, blocking=True)
    assert relay(agent_device).values["Target"] == "1"


async def test_setup_with_a_refused_key_starts_reauth(
    hass: HomeAssistant, agent_device: FakeUpnpDevice, aioclient_mock: AiohttpClientMocker
) -> None:
    agent_device.pair(NEW_KEY)
    entry = paired_entry(agent_device, KEY)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = reauth_flows(hass)
    assert len(flows) == 1
    # Nothing was subscribed, and the agent is not left registered for signing.
    assert all(state.sid is None for state in agent_device.services.values())
    assert hass.states.get(REJECTED) is None
    assert paired_agents(hass).for_url(agent_device.location) is None


async def test_an_open_agent_switched_to_paired_asks_for_its_key(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = entry_for(agent_device)  # added in open mode: no key
    entry.add_to_hass(hass)
    agent_device.pair(KEY)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flows = reauth_flows(hass)
    assert len(flows) == 1
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    assert result["step_id"] == "reauth_key"
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {CONF_KEY: KEY})
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_KEY] == KEY
    assert entry.state is ConfigEntryState.LOADED


def test_forged_events_raise_the_issue_only_in_a_burst() -> None:
    """FORGED_EVENTS_THRESHOLD refusals within FORGED_EVENTS_WINDOW_S: the issue; spread
    wider, none (one stray refusal now and then is no attack)."""
    from custom_components.upnp_guard.agent_auth import AgentKey, EventVerifier  # noqa: PLC0415
    from custom_components.upnp_guard.paired import (  # noqa: PLC0415
        FORGED_EVENTS_WINDOW_S,
        PairedAgent,
    )

    key = AgentKey(bytes(32))
    agent = PairedAgent("entry", None, EventVerifier(key))  # type: ignore[arg-type]
    spread = FORGED_EVENTS_WINDOW_S / (FORGED_EVENTS_THRESHOLD - 1) + 1
    assert not any(agent.reject("forged", now=n * spread) for n in range(20))
    burst = [agent.reject("forged", now=10_000 + n) for n in range(FORGED_EVENTS_THRESHOLD)]
    assert burst == [False] * (FORGED_EVENTS_THRESHOLD - 1) + [True]
    assert agent.rejected_total == 20 + FORGED_EVENTS_THRESHOLD


async def test_a_rebooted_agent_is_signed_for_with_its_announced_boot_id(
    hass: HomeAssistant, agent_device: FakeUpnpDevice, ssdp_hub: Any
) -> None:
    from homeassistant.components.ssdp import SsdpChange  # noqa: PLC0415

    from .test_connection import announcement  # noqa: PLC0415

    await setup_paired(hass, agent_device)
    await ssdp_hub.announce(announcement(agent_device, boot_id=7), SsdpChange.ALIVE)
    assert agent_device.refused == ["wrong_boot"]  # learnt once, at setup
    # The board reboots: new boot id, its subscriptions and counters gone.
    agent_device.pair(KEY, boot_id=8)
    for state in agent_device.services.values():
        state.sid = None
    before = agent_device.subscribe_count
    await ssdp_hub.announce(announcement(agent_device, boot_id=8), SsdpChange.ALIVE)
    await hass.async_block_till_done()
    assert agent_device.subscribe_count > before
    # Resubscribed and controlled under boot id 8 without one refusal.
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: RELAY}, blocking=True)
    assert relay(agent_device).values["Target"] == "1"
    assert agent_device.refused == ["wrong_boot"]
