"""Discovery time: agent boot -> Home Assistant's discovery flow, on the simulated LAN.

    scripts/test --no-lint bench/discovery_time.py -q -s -p no:randomly

Home Assistant's SSDP integration runs first. Then UG_BENCH_BOOTS (default 5) agents
boot one after the other, each a new board on its own LAN host (its own UDN). A sample
runs from just before the interpreter is started (the firmware frozen into the 32-bit unix
build) to the moment our discovery flow for that board reaches its confirm step, polled
every 5 ms. On a board, WiFi association comes on top.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

import custom_components.upnp_guard  # noqa: F401  (Home Assistant finds the integration)
from bench.event_latency import report
from custom_components.upnp_guard.const import DOMAIN
from tests.integration.test_agent_lan import CONTROL_CONFIG, in_thread
from tests.lan import Host, Lan
from tests.lan.agent import start_agent
from tests.lan.fixtures import ha_host, lan  # noqa: F401

BOOTS = int(os.environ.get("UG_BENCH_BOOTS", "5"))
FLOW_TIMEOUT_S = 30.0


@pytest.mark.lan
async def test_discovery_time(
    ha_host: Host,  # noqa: F811
    lan: Lan,  # noqa: F811
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()
    samples: list[float] = []
    seen: set[str] = set()  # flows of boards measured before
    for index in range(BOOTS):
        host = lan.add_host(f"board{index}")
        started = time.perf_counter()
        boot = asyncio.ensure_future(
            in_thread(start_agent, lan, f"board{index}", CONTROL_CONFIG, host=host)
        )
        flow_id = None
        async with asyncio.timeout(FLOW_TIMEOUT_S):
            while flow_id is None:
                for progress in hass.config_entries.flow.async_progress_by_handler(DOMAIN):
                    if progress["step_id"] == "confirm" and progress["flow_id"] not in seen:
                        flow_id = progress["flow_id"]
                if flow_id is None:
                    await asyncio.sleep(0.005)
        samples.append(time.perf_counter() - started)
        seen.add(flow_id)
        agent = await boot
        # The flow is this board's (its root UDN), not a late one of an earlier board.
        flow = hass.config_entries.flow.async_get(flow_id)
        assert f"agent ready {flow['context']['unique_id']} " in agent.process.output()
        hass.config_entries.flow.async_abort(flow_id)
        await in_thread(agent.stop)
    report("agent boot -> discovery flow", samples)
