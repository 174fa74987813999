"""End to end, paired: the real agent (32-bit frozen build, paired by default) and real
Home Assistant on the simulated LAN. Pairing asks for the key the board printed on its
first boot (a wrong one is refused), Home Assistant's control and subscriptions are
signed, an attacker on the LAN can neither switch the relay nor forge an event, and the
pairing survives a reboot of the board; a board re-provisioned with another key makes the
entry ask for it again (reauth). Key rotation from the options flow: a failed one
(the board stopped) keeps the old key working; a done one switches Home Assistant and
the board to the new key at once, the old key is refused, and the board keeps the new
key across a restart."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_OFF, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.notify import notify_server_pool
from tests.firmware.e2e import description, exchange, sign, soap, status, url_of
from tests.lan import Host, Lan
from tests.lan.agent import Agent, board_config, boot_id, pairing_key_lines, start_agent
from tests.lan.waits import wait_for

from .test_agent_lan import (
    confirm_discovery,
    flow_in_progress,
    in_thread,
    reloaded,
    state_of,
    turn_relay_on,
    unload_and_stop,
)

pytestmark = pytest.mark.lan

RELAY_CONFIG = board_config("Shed agent", "relay", security_mode="paired")
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"


async def _pair_flow(hass: HomeAssistant) -> dict[str, Any]:
    """The discovery flow of the agent, confirmed: it now asks for the key."""
    result = await confirm_discovery(hass)
    assert result["type"] == "form"
    assert result["step_id"] == "pair"
    return dict(result)


async def _forged_notify(attacker: Host, url: str, sid: str) -> int:
    """A NOTIFY from the attacker's address with a known SID (it travels in clear)."""
    body = (
        '<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
        "<e:property><Status>1</Status></e:property></e:propertyset>"
    )
    headers = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": "99"}
    headers["UG-AUTH"] = "1 1 " + "0" * 64

    async def send() -> int:
        connector = aiohttp.TCPConnector(local_addr=(attacker.ip, 0))
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.request("NOTIFY", url, headers=headers, data=body) as response,
        ):
            return response.status

    with attacker.entered():
        return await send()


class ShedBoard:
    """The relay board of these tests: its state directory lives across its restarts."""

    def __init__(self, lan: Lan) -> None:
        self.agent: Agent = start_agent(lan, "shed", RELAY_CONFIG)

    @property
    def key_text(self) -> str:
        """The key the board printed on its first boot, as the user types it."""
        return base64.b64encode(self.agent.pairing_key).decode()

    async def stop(self, hass: HomeAssistant, what: str) -> None:
        """Power the board off; its entity goes unavailable (byebye)."""
        await in_thread(self.agent.stop)
        await wait_for(lambda: state_of(hass, "switch.relay") == STATE_UNAVAILABLE, what)

    async def start(self, key: bytes | None = None) -> Agent:
        """Power it on again on the same host, optionally provisioned with another key."""
        self.agent = await in_thread(self.agent.restarted, key)
        return self.agent

    async def reboot(self, hass: HomeAssistant, entry: ConfigEntry, what: str) -> Agent:
        """Off and on again; the entry has reloaded for the new boot."""
        connection = entry.runtime_data
        await self.stop(hass, f"byebye before {what}")
        agent = await self.start()
        await reloaded(hass, entry, connection, f"reloaded after {what}")
        return agent


async def pair_and_add(hass: HomeAssistant, key_text: str) -> ConfigEntry:
    """The agent added through its discovery flow with `key_text` (as the user types it)."""
    result = await _pair_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"key": key_text})
    assert result["type"] == "create_entry"
    entry: ConfigEntry = result["result"]
    await hass.async_block_till_done()
    return entry


async def _paired_entry(hass: HomeAssistant, key_text: str) -> ConfigEntry:
    """The agent added through its discovery flow with `key_text`; its relay has a state."""
    entry = await pair_and_add(hass, key_text)
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "relay state")
    return entry


async def test_pairing_signed_control_refused_attacks_and_reboot(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    board = ShedBoard(lan)
    agent = board.agent
    attacker = lan.add_host("attacker")

    result = await _pair_flow(hass)
    wrong = base64.b64encode(bytes(32)).decode()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"key": wrong})
    assert result["errors"] == {"base": "wrong_key"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"key": "nope"})
    assert result["errors"] == {"base": "invalid_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key": board.key_text}
    )
    assert result["type"] == "create_entry"
    entry = result["result"]
    await hass.async_block_till_done()
    connection = entry.runtime_data
    assert connection.push  # signed SUBSCRIBE accepted
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "relay state")

    # Home Assistant's signed control works; the event comes back and verifies.
    await turn_relay_on(hass, agent, "relay on by event")

    # The attacker's unsigned SetTarget is refused; the pin does not move.
    def attack() -> bytes:
        desc = description(attacker, agent)
        assert url_of(desc, "controlURL", "SwitchPower")
        return exchange(
            attacker,
            agent,
            soap(agent, desc, SWITCH, "SetTarget", "<newTargetValue>0</newTargetValue>"),
        )

    assert status(await in_thread(attack)) == 401
    assert (await in_thread(agent.pins))["5"] == 1

    # A forged NOTIFY for our SID from the attacker changes nothing.
    sid = next(iter(connection.subscriptions))
    callback = notify_server_pool(hass).server_for(ha_host.ip)
    assert callback is not None
    assert await _forged_notify(attacker, callback.callback_url, sid) == 412
    await _switch(hass, "turn_off")
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "relay off by event")
    assert await _forged_notify(attacker, callback.callback_url, sid) == 412
    assert state_of(hass, "switch.relay") == STATE_OFF

    # The board reboots (new BOOTID): the entry follows and stays paired.
    agent = await board.reboot(hass, entry, "the reboot")
    await turn_relay_on(hass, agent, "relay after reboot")

    await unload_and_stop(hass, entry, board.agent)


async def _rotate(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """The entry's options flow: the rotate_key step, submitted."""
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] == "menu"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "rotate_key"}
    )
    assert result["type"] == "form"
    assert result["step_id"] == "rotate_key"
    return dict(await hass.config_entries.options.async_configure(result["flow_id"], {}))


async def _switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call("switch", service, {"entity_id": "switch.relay"}, blocking=True)


async def test_key_rotation_from_the_options_flow(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    board = ShedBoard(lan)
    state_dir = board.agent.state_dir
    old_key = board.agent.pairing_key
    old_text = board.key_text
    attacker = lan.add_host("attacker")
    entry = await _paired_entry(hass, old_text)

    # A rotation that fails (the board is stopped): a clear error, the old key kept.
    connection = entry.runtime_data
    await board.stop(hass, "byebye")
    result = await _rotate(hass, entry.entry_id)
    assert result["type"] == "form"
    assert result["errors"] == {"base": "cannot_connect"}
    assert entry.data["key"] == old_text
    agent = await board.start()
    await reloaded(hass, entry, connection, "reloaded after the restart")
    await turn_relay_on(hass, agent, "relay on, old key")

    # The rotation done: the new key is shown once, stored, and used at once (no reload).
    connection = entry.runtime_data
    result = await _rotate(hass, entry.entry_id)
    assert result["step_id"] == "key_rotated"
    new_text = result["description_placeholders"]["key"]
    assert new_text != old_text
    assert len(base64.b64decode(new_text, validate=True)) == 32
    assert entry.data["key"] == new_text
    assert entry.runtime_data is connection
    # The board keeps exactly that key in its state dir, and never prints it.
    assert (state_dir / "key").read_text().strip() == new_text
    assert pairing_key_lines(agent.process.output()) == []
    # Home Assistant's control is signed with the new key; the event comes back signed
    # with it and verifies.
    await _switch(hass, "turn_off")
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "relay off, new key")
    assert (await in_thread(agent.pins))["5"] == 0
    assert connection.paired is not None
    assert connection.paired.rejected_total == 0

    # A request signed with the old key (Home Assistant's own, captured before, or made
    # by whoever still has it) is refused; the pin stays.
    boot = boot_id(agent)

    def with_old_key() -> bytes:
        desc = description(attacker, agent)
        raw = soap(agent, desc, SWITCH, "SetTarget", "<newTargetValue>1</newTargetValue>")
        return exchange(attacker, agent, sign(raw, old_key, boot, 10**15))

    assert status(await in_thread(with_old_key)) == 401
    assert (await in_thread(agent.pins))["5"] == 0
    assert (await in_thread(agent.stats))["auth_refused"].get("bad_mac") == 1

    # The board restarted still holds the new key: the entry reloads with it and works.
    agent = await board.reboot(hass, entry, "the second restart")
    assert entry.data["key"] == new_text
    await turn_relay_on(hass, agent, "relay on after restart")
    assert pairing_key_lines(agent.process.output()) == []
    assert status(await in_thread(with_old_key)) == 401
    assert (await in_thread(agent.pins))["5"] == 1

    await unload_and_stop(hass, entry, board.agent)


async def test_reauth_after_the_board_got_another_key(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """The board is re-provisioned with another key (reflashed, or its key file replaced):
    Home Assistant's signed requests are refused, the entry asks for the key again
    (reauth), a wrong one is refused there too, the right one brings the entry back."""
    board = ShedBoard(lan)
    old_text = board.key_text
    entry = await _paired_entry(hass, old_text)

    new_key = bytes(range(100, 132))
    new_text = base64.b64encode(new_key).decode()
    await board.stop(hass, "byebye")
    agent = await board.start(key=new_key)

    flow = await flow_in_progress(
        hass,
        lambda flow: flow["context"].get("source") == "reauth",
        "reauth flow once the board refuses the stored key",
    )
    assert flow["step_id"] == "reauth_key"
    assert flow["context"]["entry_id"] == entry.entry_id
    assert (await in_thread(agent.pins))["5"] == 0  # nothing the old key signed got through
    # The old key again: refused by the board, the flow says so.
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"key": old_text})
    assert result["type"] == "form"
    assert result["errors"] == {"base": "wrong_key"}
    assert entry.data["key"] == old_text
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"key": new_text})
    assert result["type"] == "abort"
    assert result["reason"] == "reauth_successful"
    assert entry.data["key"] == new_text
    await hass.async_block_till_done()
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "relay back")
    await turn_relay_on(hass, agent, "relay on, new key")

    await unload_and_stop(hass, entry, board.agent)
