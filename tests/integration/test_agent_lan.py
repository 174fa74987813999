"""End to end: real Home Assistant with our agent (the firmware under micropython).

The agent grants at most 4 GENA subscriptions in all (an ESP32 has ~10 sockets), so each
test gives it a board config whose evented services fit: everything here is pushed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.upnp_guard.appliance.agent_info import open_mode_issue_id
from custom_components.upnp_guard.appliance.const import (
    LIVENESS_PROBE_FAILURES,
    LIVENESS_PROBE_INTERVAL_S,
)
from custom_components.upnp_guard.const import DOMAIN
from tests.lan import Host, Lan
from tests.lan.agent import Agent, board_config, start_agent
from tests.lan.waits import WAIT_S, wait_for

pytestmark = pytest.mark.lan

# relay (SwitchPower) + lamp (SwitchPower + Dimming) + doorbell (BinaryInput) = 4.
CONTROL_CONFIG = board_config("Garage agent", "relay", "lamp", "doorbell")
# climate (TemperatureSensor + HumiditySensor) + window (BinaryInput) = 3.
SENSOR_CONFIG = board_config("Hall agent", "climate", "window")
# One relay: one subscription.
RELAY_CONFIG = board_config("Shed agent", "relay")
PWM_FULL = 65535


def rebuilt(entry: ConfigEntry, old: object) -> bool:
    """The entry was reloaded and is up again (during a reload it has no runtime_data)."""
    return entry.state is ConfigEntryState.LOADED and getattr(entry, "runtime_data", old) is not old


async def reloaded(hass: HomeAssistant, entry: ConfigEntry, old: object, what: str) -> Any:
    """Wait until the entry has reloaded (`rebuilt`); its new runtime data."""
    await wait_for(lambda: rebuilt(entry, old), what)
    await hass.async_block_till_done()
    return entry.runtime_data


async def unload_and_stop(hass: HomeAssistant, entry: ConfigEntry, agent: Agent) -> None:
    """A test's end: the entry unloaded (its subscriptions given back), the board stopped."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await in_thread(agent.stop)


async def turn_relay_on(hass: HomeAssistant, agent: Agent, what: str) -> None:
    """switch.turn_on -> SOAP -> the agent's relay pin (5) high; the state comes back by
    event."""
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.relay"}, blocking=True
    )
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_ON, what)
    assert (await in_thread(agent.pins))["5"] == 1


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    current = hass.states.get(entity_id)
    return None if current is None else current.state


async def flow_in_progress(
    hass: HomeAssistant,
    match: Callable[[dict[str, Any]], bool],
    what: str,
    limit_s: float = WAIT_S,
) -> dict[str, Any]:
    """Wait (bounded) until one of our config flows for which `match` holds is in
    progress; that flow."""

    def find() -> dict[str, Any] | None:
        for progress in hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            if match(dict(progress)):
                return dict(progress)
        return None

    await wait_for(find, what, limit_s)
    found = find()
    assert found is not None
    return found


async def confirm_discovery(hass: HomeAssistant) -> dict[str, Any]:
    """Real SSDP discovery of an agent, its confirm step answered: what the flow does next."""
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()
    found = await flow_in_progress(
        hass, lambda flow: flow["step_id"] == "confirm", "SSDP discovery flow for the agent"
    )
    return dict(await hass.config_entries.flow.async_configure(found["flow_id"], {}))


async def discover_and_add(hass: HomeAssistant, agent: Agent) -> MockConfigEntry:
    """Real SSDP discovery of the (open) agent, then the confirm step."""
    result = await confirm_discovery(hass)
    assert result["type"] == "create_entry"
    assert result["data"]["location"] == agent.description_url
    assert result["data"]["device_type"] == "urn:upnp-guard-org:device:Agent:1"
    entry: MockConfigEntry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def in_thread(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Agent commands block on its stdout: keep HA's loop running meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: func(*args, **kwargs))


async def test_agent_switch_light_button_and_restart(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    agent = start_agent(lan, "garage", CONTROL_CONFIG)
    entry = await discover_and_add(hass, agent)
    connection = entry.runtime_data
    assert connection.push
    assert not connection.polled_services
    assert len(connection.subscriptions) == 4
    first_sids = set(connection.subscriptions)

    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "relay state")
    assert state_of(hass, "sensor.garage_agent_firmware_version") not in (None, "unknown")
    assert state_of(hass, "sensor.garage_agent_security_mode") == "open"
    # The agent obeys anyone on the LAN: Home Assistant says so in Repairs.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, open_mode_issue_id(entry.entry_id))
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {"name": agent.config["friendly_name"]}

    # switch.turn_on -> SOAP -> the simulated relay pin; the state comes back by event.
    await turn_relay_on(hass, agent, "relay on event")

    await hass.services.async_call(
        "light", "turn_on", {"entity_id": "light.lamp", "brightness": 128}, blocking=True
    )
    await wait_for(
        lambda: (
            state_of(hass, "light.lamp") == STATE_ON
            and hass.states.get("light.lamp").attributes.get("brightness") == 128
        ),
        "lamp on at 50 %",
    )
    duty = (await in_thread(agent.pins))["18"]
    assert abs(duty - PWM_FULL * 50 / 100) <= PWM_FULL / 100

    # A press on the simulated button pin fires the event entity once.
    assert state_of(hass, "event.doorbell_press") == "unknown"
    await in_thread(agent.press_button, "doorbell")
    await wait_for(lambda: state_of(hass, "event.doorbell_press") != "unknown", "press event")
    fired = hass.states.get("event.doorbell_press")
    assert fired.attributes["event_type"] == "press"
    await in_thread(agent.press_button, "doorbell")
    await wait_for(
        lambda: (
            hass.states.get("event.doorbell_press").attributes.get("press_count")
            == fired.attributes["press_count"] + 1
        ),
        "second press",
    )

    # Orderly stop: ssdp:byebye -> unavailable at once.
    await in_thread(agent.stop)
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_UNAVAILABLE, "byebye")

    # Same board again (new BOOTID): ssdp:alive -> available with fresh subscriptions.
    agent = await in_thread(agent.restarted)
    await wait_for(
        lambda: state_of(hass, "switch.relay") not in (None, STATE_UNAVAILABLE),
        "alive -> available",
    )
    # Its control and event URLs changed with the boot: the entry was rebuilt.
    connection = await reloaded(hass, entry, connection, "reloaded")
    assert connection.push
    assert len(connection.subscriptions) == 4
    assert not set(connection.subscriptions) & first_sids
    await turn_relay_on(hass, agent, "relay after restart")

    # Killed without byebye and back before a liveness probe noticed: the new BOOTID
    # rebuilds it (test_agent_killed_goes_unavailable_and_returns covers the probes).
    second_sids = set(connection.subscriptions)
    await in_thread(agent.kill)
    agent = await in_thread(agent.restarted)
    connection = await reloaded(hass, entry, connection, "BOOTID -> reloaded")
    await wait_for(lambda: len(connection.subscriptions) == 4, "resubscribed after kill")
    assert not set(connection.subscriptions) & second_sids
    await in_thread(agent.press_button, "doorbell")
    await wait_for(
        lambda: hass.states.get("event.doorbell_press").attributes.get("press_count") == 1,
        "press after reboot (count restarted)",
    )

    await unload_and_stop(hass, entry, agent)


async def test_agent_killed_goes_unavailable_and_returns(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """SIGKILL (no byebye): liveness probes -> unavailable; restarted -> fresh subscription."""
    agent = start_agent(lan, "shed", RELAY_CONFIG)
    entry = await discover_and_add(hass, agent)
    connection = entry.runtime_data
    first_sids = set(connection.subscriptions)
    assert len(first_sids) == 1
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "relay state")

    await in_thread(agent.kill)
    assert not agent.alive()
    # Nothing tells HA but the probes: fire their timer rather than wait for it.
    for probe in range(1, LIVENESS_PROBE_FAILURES + 1):
        assert state_of(hass, "switch.relay") == STATE_OFF  # not before the last probe
        async_fire_time_changed(
            hass, dt_util.utcnow() + timedelta(seconds=LIVENESS_PROBE_INTERVAL_S + 1)
        )
        await wait_for(
            lambda probe=probe: connection.probe_failures >= probe or not connection.available,
            f"liveness probe {probe} unanswered",
        )
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_UNAVAILABLE, "unavailable")

    # The same board again (new BOOTID, new event URLs): rebuilt with a fresh subscription,
    # by its ssdp:alive or by the next reconnect attempt, whichever comes first.
    agent = await in_thread(agent.restarted)
    connection = await reloaded(hass, entry, connection, "rebuilt after restart")
    await wait_for(lambda: len(connection.subscriptions) == 1, "resubscribed")
    assert not set(connection.subscriptions) & first_sids
    await wait_for(lambda: state_of(hass, "switch.relay") == STATE_OFF, "available again")
    await turn_relay_on(hass, agent, "relay after restart")

    await unload_and_stop(hass, entry, agent)


async def test_agent_sensor_and_contact_push(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    agent = start_agent(lan, "hall", SENSOR_CONFIG)
    entry = await discover_and_add(hass, agent)
    connection = entry.runtime_data
    assert connection.push
    assert not connection.polled_services

    await in_thread(agent.set_sensor, "climate", temperature=23.25, humidity=41.5)
    await wait_for(
        lambda: (
            state_of(hass, "sensor.climate_temperature") == "23.25"
            and state_of(hass, "sensor.climate_humidity") == "41.5"
        ),
        "sensor event",
    )
    await in_thread(agent.set_input, "window", closed=True)
    await wait_for(lambda: state_of(hass, "binary_sensor.window_input") == STATE_ON, "closed")
    await in_thread(agent.set_input, "window", closed=False)
    await wait_for(lambda: state_of(hass, "binary_sensor.window_input") == STATE_OFF, "opened")

    await unload_and_stop(hass, entry, agent)


BURST = 40


async def test_a_burst_of_presses_reaches_automations_once_per_press(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """40 presses back to back: the agent coalesces them while a NOTIFY is in flight (so
    PressCount jumps), yet the event entity changes state once per press, in order."""
    agent = start_agent(lan, "porch", board_config("Porch agent", "doorbell"))
    entry = await discover_and_add(hass, agent)
    presses: list[int] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            presses.append(new.attributes["press_count"])

    unsubscribe = async_track_state_change_event(hass, ["event.doorbell_press"], record)

    def burst() -> None:
        for _ in range(BURST):
            agent.press_button("doorbell")

    await in_thread(burst)
    await wait_for(lambda: len(presses) >= BURST, f"{BURST} press events")
    await hass.async_block_till_done()
    assert presses == list(range(1, BURST + 1))
    unsubscribe()
    await unload_and_stop(hass, entry, agent)


async def test_board_booting_after_home_assistant_is_discovered_from_its_alive(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Home Assistant searches once at start (then every 10 minutes): a board that boots
    later must be found from its ssdp:alive advertisement (deviceType matchers)."""
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()
    agent = start_agent(lan, "late", RELAY_CONFIG)
    udn = re.search(r"agent ready (uuid:\S+)", agent.process.output())
    assert udn is not None
    found = await flow_in_progress(
        hass,
        lambda flow: flow["context"].get("unique_id") == udn.group(1),
        "discovery flow from the agent's ssdp:alive",
        limit_s=20,
    )
    assert found["step_id"] == "confirm"
    assert found["context"]["source"] == "ssdp"
    await in_thread(agent.stop)
