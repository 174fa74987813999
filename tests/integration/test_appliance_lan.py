"""End to end: real Home Assistant discovers and controls a stock UPnP DimmableLight.

The light (tests/integration/lan_dimmable_light.py) is built from async-upnp-client's
server classes and runs in its own LAN namespace; Home Assistant finds it through real
SSDP, subscribes through real GENA, and controls it through real SOAP.
"""

from __future__ import annotations

import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.upnp_guard.appliance.const import (
    LIVENESS_PROBE_FAILURES,
    LIVENESS_PROBE_INTERVAL_S,
)
from custom_components.upnp_guard.const import CONF_LOCATION
from tests.lan import Host, Lan, Process
from tests.lan.waits import wait_for

from .test_agent_lan import flow_in_progress

pytestmark = pytest.mark.lan

LIGHT_SCRIPT = Path(__file__).with_name("lan_dimmable_light.py")
LIGHT_UDN = "uuid:5d0b6c7e-1f2a-4b3c-8d4e-acme00000001"
LIGHT_PORT = "49152"
ENTITY = "light.porch_light"


def start_light(host: Host, boot_id: int) -> Process:
    proc = host.start(
        sys.executable, str(LIGHT_SCRIPT), host.ip, LIGHT_PORT, LIGHT_UDN, str(boot_id)
    )
    proc.wait_for_output(r"ready", timeout=30)
    return proc


def tell(proc: Process, command: str) -> None:
    assert proc.popen.stdin is not None
    proc.popen.stdin.write(f"{command}\n".encode())
    proc.popen.stdin.flush()


def state(hass: HomeAssistant) -> str | None:
    current = hass.states.get(ENTITY)
    return None if current is None else current.state


def brightness(hass: HomeAssistant) -> int | None:
    current = hass.states.get(ENTITY)
    return None if current is None else current.attributes.get("brightness")


async def light_discovery_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Real SSDP: the ssdp integration matches our manifest and starts a discovery flow for
    the stock light; that flow."""
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()
    return await flow_in_progress(
        hass,
        lambda flow: flow["context"].get("unique_id") == LIGHT_UDN,
        "SSDP discovery flow for the light",
    )


async def test_stock_dimmable_light_end_to_end(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    light_host = lan.add_host("light")
    light = start_light(light_host, boot_id=1)

    flow = await light_discovery_flow(hass)
    assert flow["step_id"] == "confirm"
    result = await hass.config_entries.flow.async_configure(str(flow["flow_id"]), {})
    assert result["type"] == "create_entry"
    entry = result["result"]
    assert entry.data[CONF_LOCATION] == f"http://{light_host.ip}:{LIGHT_PORT}/device.xml"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    connection = entry.runtime_data
    assert connection.push, "GENA subscriptions, not polling"
    assert not connection.polled_services
    first_sids = set(connection.subscriptions)
    assert len(first_sids) == 2  # SwitchPower and Dimming
    await wait_for(lambda: state(hass) == STATE_OFF, "initial event")

    # Control: HA -> SOAP -> the device; the state comes back as a GENA event.
    await hass.services.async_call(
        "light", "turn_on", {"entity_id": ENTITY, "brightness": 102}, blocking=True
    )
    light.wait_for_output(r"ACTION SetLoadLevelTarget 40", timeout=10)
    light.wait_for_output(r"ACTION SetTarget True", timeout=10)
    await wait_for(lambda: state(hass) == STATE_ON and brightness(hass) == 102, "turned on")

    # The device changes by itself (a wall dimmer): HA follows without polling.
    tell(light, "level 80")
    await wait_for(lambda: brightness(hass) == 204, "device-side level change")
    tell(light, "status 0")
    await wait_for(lambda: state(hass) == STATE_OFF, "device-side power off")

    # Killed (SIGTERM: the device says ssdp:byebye): unavailable at once.
    light.stop()
    await wait_for(lambda: state(hass) == STATE_UNAVAILABLE, "byebye -> unavailable")
    assert not connection.subscriptions

    # Restarted (new BOOTID): ssdp:alive brings it back with fresh subscriptions.
    light = start_light(light_host, boot_id=2)
    await wait_for(lambda: state(hass) not in (None, STATE_UNAVAILABLE), "alive -> available")
    await wait_for(lambda: len(connection.subscriptions) == 2, "resubscribed")
    assert not set(connection.subscriptions) & first_sids
    tell(light, "level 20")
    tell(light, "status 1")
    await wait_for(
        lambda: state(hass) == STATE_ON and brightness(hass) == 51, "events after restart"
    )

    # Killed without a word (SIGKILL: no byebye): only the liveness probes can tell.
    second_sids = set(connection.subscriptions)
    light.send_signal(signal.SIGKILL)
    light.popen.wait(10)
    for probe in range(1, LIVENESS_PROBE_FAILURES + 1):
        assert state(hass) == STATE_ON  # not before the last probe
        async_fire_time_changed(
            hass, dt_util.utcnow() + timedelta(seconds=LIVENESS_PROBE_INTERVAL_S + 1)
        )
        await wait_for(
            lambda probe=probe: connection.probe_failures >= probe or not connection.available,
            f"liveness probe {probe} unanswered",
        )
    await wait_for(lambda: state(hass) == STATE_UNAVAILABLE, "probes -> unavailable")

    # Back (new BOOTID, same description): reconnected in place, fresh subscriptions.
    light = start_light(light_host, boot_id=3)
    await wait_for(lambda: state(hass) not in (None, STATE_UNAVAILABLE), "back -> available")
    assert entry.runtime_data is connection
    await wait_for(lambda: len(connection.subscriptions) == 2, "resubscribed after kill")
    assert not set(connection.subscriptions) & second_sids
    await hass.services.async_call(
        "light", "turn_on", {"entity_id": ENTITY, "brightness": 102}, blocking=True
    )
    light.wait_for_output(r"ACTION SetTarget True", timeout=10)
    await wait_for(lambda: state(hass) == STATE_ON and brightness(hass) == 102, "on after kill")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    light.stop()
