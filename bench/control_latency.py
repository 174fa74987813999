"""Control latency: Home Assistant service call -> the agent's pin changed, on the
simulated LAN.

    scripts/test --no-lint bench/control_latency.py -q -s -p no:randomly

Real Home Assistant discovers the agent (the firmware frozen into the 32-bit unix build,
64 KB heap) and adds it; then `switch.turn_on` / `switch.turn_off` alternate
UG_BENCH_CALLS times (default 200). A sample runs from the service call to its return
(`blocking=True`): the agent sets the pin before it answers the SOAP request, so the pin
has changed by then (each sample is checked through the control channel, outside the
timing). Events coming back do not gate the call.
"""

from __future__ import annotations

import os
import time

import pytest
from homeassistant.core import HomeAssistant

import custom_components.upnp_guard  # noqa: F401  (Home Assistant finds the integration)
from bench.event_latency import report
from tests.integration.test_agent_lan import (
    CONTROL_CONFIG,
    discover_and_add,
    in_thread,
    unload_and_stop,
)
from tests.lan import Host, Lan
from tests.lan.agent import start_agent
from tests.lan.fixtures import ha_host, lan  # noqa: F401

CALLS = int(os.environ.get("UG_BENCH_CALLS", "200"))
RELAY_PIN = "5"


@pytest.mark.lan
async def test_control_latency(
    ha_host: Host,  # noqa: F811
    lan: Lan,  # noqa: F811
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    agent = start_agent(lan, "bench", CONTROL_CONFIG)
    entry = await discover_and_add(hass, agent)
    samples: list[float] = []
    for index in range(CALLS):
        on = index % 2 == 0
        started = time.perf_counter()
        await hass.services.async_call(
            "switch",
            "turn_on" if on else "turn_off",
            {"entity_id": "switch.relay"},
            blocking=True,
        )
        samples.append(time.perf_counter() - started)
        assert (await in_thread(agent.pins))[RELAY_PIN] == int(on)
    report("switch service call -> agent relay pin", samples)
    await unload_and_stop(hass, entry, agent)
