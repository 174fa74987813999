"""Key rotation from a paired agent's options flow (appliance/rotation.py): the fake agent
unseals SetKey's argument with the firmware's own auth module, bound to the boot id and
counter of the request's UG-AUTH, so the seal and the request must agree; afterwards the
old key is refused and the new one works without a reload. A failed rotation (agent
unreachable, a UPnP fault, a seal tampered on the way) keeps the old key working."""

from __future__ import annotations

import pytest
from async_upnp_client.const import HttpRequest
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.upnp_guard.agent_auth import AgentKey, SigningRequester, parse_key
from custom_components.upnp_guard.appliance.pairing import BootId
from custom_components.upnp_guard.const import CONF_KEY
from custom_components.upnp_guard.transport import device_requester

from .conftest import SWITCH_POWER, FakeUpnpDevice
from .test_paired_agent import KEY, RELAY, reauth_flows, relay, setup_paired, status_event

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations", "ssdp_hub")


async def rotate(hass: HomeAssistant, entry_id: str) -> dict[str, object]:
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["rotate_key", "agent"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "rotate_key"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "rotate_key"
    return dict(await hass.config_entries.options.async_configure(result["flow_id"], {}))


async def set_target_signed_with(
    hass: HomeAssistant, device: FakeUpnpDevice, key: str, value: int
) -> int:
    """A SetTarget signed with `key` by a requester of its own (not the entry's)."""
    boot = BootId(device.verifier.boot_id)
    requester = SigningRequester(
        device_requester(hass), AgentKey(parse_key(key)), boot.get, boot.learn
    )
    url = f"{device.base_url}{relay(device).base}/control"
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<s:Body><u:SetTarget xmlns:u="{SWITCH_POWER}"><newTargetValue>{value}'
        "</newTargetValue></u:SetTarget></s:Body></s:Envelope>"
    )
    headers = {"SOAPAction": f'"{SWITCH_POWER}#SetTarget"', "Content-Type": "text/xml"}
    response = await requester.async_http_request(HttpRequest("POST", url, headers, body))
    return response.status_code


async def switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call("switch", service, {ATTR_ENTITY_ID: RELAY}, blocking=True)


async def test_rotation_installs_a_new_key_shown_once(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = await setup_paired(hass, agent_device)
    connection = entry.runtime_data
    result = await rotate(hass, entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "key_rotated"
    new_key = result["description_placeholders"]["key"]  # type: ignore[index]
    # The key is stored and in use before the step that shows it is even submitted.
    assert entry.data[CONF_KEY] == new_key
    options = dict(entry.options)
    done = await hass.config_entries.options.async_configure(str(result["flow_id"]), {})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert "key" not in (done.get("description_placeholders") or {})
    assert dict(entry.options) == options
    # The agent unsealed exactly the key the flow shows and the entry keeps.
    assert new_key != KEY
    assert agent_device.paired is not None
    assert agent_device.paired.key_base64 == new_key
    assert entry.data[CONF_KEY] == new_key
    assert len(parse_key(new_key)) == 32
    assert ("SetKey", {"NewSealedKey": agent_device.calls[-1][1]["NewSealedKey"]}) in (
        agent_device.calls
    )
    # No reload: the same connection, now signing with the new key.
    assert entry.runtime_data is connection
    refused_before = list(agent_device.refused)
    await switch(hass, "turn_on")
    assert relay(agent_device).values["Target"] == "1"
    assert agent_device.refused == refused_before
    # The old key is refused now, and nothing changes; the new one works.
    assert await set_target_signed_with(hass, agent_device, KEY, 0) == 401
    assert agent_device.refused[-1] == "bad_mac"
    assert relay(agent_device).values["Target"] == "1"
    assert await set_target_signed_with(hass, agent_device, new_key, 0) == 200
    assert relay(agent_device).values["Target"] == "0"
    # Events are checked with the new key too.
    verifier = connection.paired.verifier
    assert verifier.check(*signed_event(new_key, 1)) is None
    assert verifier.check(*signed_event(KEY, 2)) == "forged"
    assert reauth_flows(hass) == []
    # A second rotation starts from the new key.
    result = await rotate(hass, entry.entry_id)
    assert result["step_id"] == "key_rotated"
    assert agent_device.paired.key_base64 == entry.data[CONF_KEY] != new_key


def signed_event(key: str, seq: int) -> tuple[dict[str, str], bytes]:
    from tests.fakes.paired import firmware_auth  # noqa: PLC0415

    body = status_event("1")
    secret = firmware_auth.Key(firmware_auth.parse_key(key))
    header = firmware_auth.event_header(secret, "uuid:sid-x", seq, 7, body)
    return {"SID": "uuid:sid-x", "SEQ": str(seq), "UG-AUTH": header}, body


async def test_rotation_after_an_unannounced_reboot_reseals_once(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = await setup_paired(hass, agent_device)
    agent_device.pair(KEY, boot_id=8)  # rebooted; Home Assistant has not heard of it
    result = await rotate(hass, entry.entry_id)
    assert result["step_id"] == "key_rotated"
    # The first SetKey carried the old boot id (refused after a right MAC), the second
    # a new reservation and a new seal for boot 8.
    assert agent_device.refused[-1] == "wrong_boot"
    assert [call for call, _args in agent_device.calls].count("SetKey") == 1
    assert agent_device.paired is not None
    assert agent_device.paired.key_base64 == entry.data[CONF_KEY] != KEY
    assert reauth_flows(hass) == []


@pytest.mark.parametrize("failure", ["offline", "fault", "tampered"])
async def test_a_failed_rotation_keeps_the_old_key_working(
    hass: HomeAssistant, agent_device: FakeUpnpDevice, failure: str
) -> None:
    entry = await setup_paired(hass, agent_device)
    if failure == "offline":
        agent_device.offline = True
    elif failure == "fault":
        agent_device.soap_fault = (501, "Action Failed")  # the agent could not store it
    else:
        agent_device.tamper_seal = True  # a man in the middle: the MAC no longer fits
    result = await rotate(hass, entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    expected = "cannot_connect" if failure == "offline" else "rotate_refused"
    assert result["errors"] == {"base": expected}
    assert "key" not in (result.get("description_placeholders") or {})
    if failure == "tampered":
        assert agent_device.refused[-1] == "bad_mac"
    agent_device.offline = False
    agent_device.soap_fault = None
    agent_device.tamper_seal = False
    assert entry.data[CONF_KEY] == KEY
    assert agent_device.paired is not None
    assert agent_device.paired.key_base64 == KEY
    await switch(hass, "turn_on")
    assert relay(agent_device).values["Target"] == "1"
    assert reauth_flows(hass) == []
    # Trying again once the agent answers works.
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "key_rotated"
    assert agent_device.paired.key_base64 == entry.data[CONF_KEY] != KEY


async def test_a_lost_answer_is_settled_by_a_read_with_the_new_key(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = await setup_paired(hass, agent_device)
    agent_device.lose_set_key_answer = True
    result = await rotate(hass, entry.entry_id)
    # The agent took the key; a signed GetInfo with it proved so: done, not an error.
    assert result["step_id"] == "key_rotated"
    assert agent_device.paired is not None
    assert agent_device.paired.key_base64 == entry.data[CONF_KEY] != KEY
    await switch(hass, "turn_on")
    assert relay(agent_device).values["Target"] == "1"
    assert reauth_flows(hass) == []


async def test_only_paired_agents_offer_rotation(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    entry = await setup_paired(hass, agent_device)
    assert entry.supports_options
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    result = await rotate(hass, entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "agent_not_loaded"
    assert agent_device.paired is not None
    assert agent_device.paired.key_base64 == KEY


async def test_one_rotation_at_a_time(hass: HomeAssistant, agent_device: FakeUpnpDevice) -> None:
    entry = await setup_paired(hass, agent_device)
    agent = entry.runtime_data.paired
    agent.rotating = True  # another options flow is in the middle of one
    result = await rotate(hass, entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "rotation_in_progress"
    assert "SetKey" not in [call for call, _args in agent_device.calls]
    agent.rotating = False
    assert (await rotate(hass, entry.entry_id))["step_id"] == "key_rotated"
