"""Control and event round trips through the integration, side by side in one run: our
agent against the stock async-upnp-client DimmableLight of the tests, same Home
Assistant, same LAN, same count.

    scripts/test --no-lint bench/reference_ha.py -q -s -p no:randomly

Both devices are discovered over real SSDP and added through the confirm step; then
UG_BENCH_ROUNDS rounds (default 200) alternate between them, so the machine's noise
falls on both:

- control: `light.turn_on` / `light.turn_off` (blocking) on the agent's dimmer
  (SwitchPower + Dimming, like the stock light) and on the stock light; the sample runs
  from the call to its return (the SOAP answer).
- event: a change on the device side, written to its stdin (the agent: a doorbell press,
  `PressCount`; the light: `status 0|1`, as a wall switch would), to the moment Home
  Assistant writes the entity's new state (GENA NOTIFY in between). Both are written the
  same way, without waiting for an acknowledgement.

The medians, p99 and the ratio stock / agent are printed. Every sample is bounded
(SAMPLE_TIMEOUT_S).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import sys
import time
from typing import Any

import pytest
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.upnp_guard  # noqa: F401  (Home Assistant finds the integration)
from bench.event_latency import SAMPLE_TIMEOUT_S, watch
from bench.reference_common import start_stock
from custom_components.upnp_guard.const import DOMAIN
from tests.integration.test_agent_lan import CONTROL_CONFIG, state_of
from tests.lan import Host, Lan, Process
from tests.lan.agent import start_agent
from tests.lan.fixtures import ha_host, lan  # noqa: F401
from tests.lan.waits import wait_for

ROUNDS = int(os.environ.get("UG_BENCH_ROUNDS", "200"))
AGENT_LIGHT = "light.lamp"
AGENT_EVENT = "event.doorbell_press"
STOCK_LIGHT = "light.porch_light"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(samples: list[float]) -> str:
    return (
        f"n={len(samples)} median={statistics.median(samples) * 1000:.2f} ms "
        f"p99={percentile(samples, 0.99) * 1000:.2f} ms"
    )


def compare(what: str, agent: list[float], stock: list[float]) -> None:
    ratio = statistics.median(stock) / statistics.median(agent)
    print(
        f"\n{what}\n  agent: {summary(agent)}\n  stock: {summary(stock)}\n"
        f"  stock/agent (medians): {ratio:.2f}",
        file=sys.stderr,
    )


def write_line(process: Process, line: str) -> None:
    stdin = process.popen.stdin
    assert stdin is not None
    stdin.write(f"{line}\n".encode())
    stdin.flush()


async def add_discovered(hass: HomeAssistant, count: int) -> list[MockConfigEntry]:
    """Confirm the SSDP discovery flows of `count` devices; their entries."""
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()

    def confirms() -> list[dict[str, Any]]:
        return [
            dict(flow)
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["step_id"] == "confirm"
        ]

    await wait_for(lambda: len(confirms()) >= count, f"{count} discovery flows")
    entries = []
    for flow in confirms():
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        assert result["type"] == "create_entry", result
        entries.append(result["result"])
    await hass.async_block_till_done()
    return entries


async def toggle(hass: HomeAssistant, entity_id: str, on: bool) -> float:
    started = time.perf_counter()
    await hass.services.async_call(
        "light", "turn_on" if on else "turn_off", {"entity_id": entity_id}, blocking=True
    )
    return time.perf_counter() - started


async def change(process: Process, line: str, changes: asyncio.Queue[float]) -> float:
    started = time.perf_counter()
    write_line(process, line)
    return await asyncio.wait_for(changes.get(), SAMPLE_TIMEOUT_S) - started


async def settled(hass: HomeAssistant, entity_id: str, expected: str) -> None:
    await wait_for(lambda: state_of(hass, entity_id) == expected, f"{entity_id} {expected}")


@pytest.mark.lan
async def test_agent_and_stock_light_side_by_side(
    ha_host: Host,  # noqa: F811
    lan: Lan,  # noqa: F811
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    agent = start_agent(lan, "bench", CONTROL_CONFIG, log_level="warning")
    stock_host = start_stock(lan, "stock")
    stock = stock_host.processes[-1]
    entries = await add_discovered(hass, 2)
    assert all(entry.runtime_data.push for entry in entries)
    await wait_for(lambda: state_of(hass, STOCK_LIGHT) == STATE_OFF, "the stock light's state")
    await wait_for(lambda: state_of(hass, AGENT_LIGHT) == STATE_OFF, "the agent lamp's state")

    control: dict[str, list[float]] = {"agent": [], "stock": []}
    event: dict[str, list[float]] = {"agent": [], "stock": []}
    agent_changes = watch(hass, AGENT_EVENT)
    stock_changes = watch(hass, STOCK_LIGHT)
    ids = itertools.count(1)
    for index in range(ROUNDS):
        on = index % 2 == 0
        control["agent"].append(await toggle(hass, AGENT_LIGHT, on))
        control["stock"].append(await toggle(hass, STOCK_LIGHT, on))
        # The stock light's own event for the call just made lands on its entity too:
        # let it arrive, then start the device-side sample from a settled state.
        await settled(hass, STOCK_LIGHT, STATE_ON if on else STATE_OFF)
        await asyncio.sleep(0.05)
        while not stock_changes.empty():
            stock_changes.get_nowait()
        event["agent"].append(
            await change(agent.process, f"{next(ids)} press doorbell", agent_changes)
        )
        event["stock"].append(await change(stock, f"status {0 if on else 1}", stock_changes))
    assert agent_changes.empty()
    compare(
        "control: light.turn_on/off call -> return (SOAP answered)",
        control["agent"],
        control["stock"],
    )
    compare("event: device-side change -> HA entity state (GENA)", event["agent"], event["stock"])
    for entry in entries:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
