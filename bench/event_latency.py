"""Event latency: agent state change -> Home Assistant state, on the simulated LAN.

Run (figures, not pass/fail):

    scripts/test --no-lint bench/event_latency.py -q -s -p no:randomly

Real Home Assistant discovers our agent (firmware under micropython) over SSDP and
subscribes over GENA; then the doorbell button is pressed UG_BENCH_EVENTS times (default
300), one at a time. Each sample runs from just before the press command is written to
the agent's control pipe to the moment Home Assistant writes the event entity's new
state; it so also includes the pipe and the agent's command handling: an upper bound.
(scripts/test enters a chroot that may not pass UG_BENCH_EVENTS through: 300 then.)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback

import custom_components.upnp_guard  # noqa: F401  (Home Assistant finds the integration)
from tests.integration.test_agent_lan import (
    CONTROL_CONFIG,
    discover_and_add,
    in_thread,
    unload_and_stop,
)
from tests.lan import Host, Lan
from tests.lan.agent import start_agent
from tests.lan.fixtures import ha_host, lan  # noqa: F401

EVENTS = int(os.environ.get("UG_BENCH_EVENTS", "300"))
# Bound on one sample (a lost event must not hang the run).
SAMPLE_TIMEOUT_S = 10.0


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"\n{name}: n={len(samples)} median={statistics.median(samples) * 1000:.2f} ms "
        f"p99={p99 * 1000:.2f} ms min={ordered[0] * 1000:.2f} ms max={ordered[-1] * 1000:.2f} ms",
        file=sys.stderr,
    )


def watch(hass: HomeAssistant, entity_id: str) -> asyncio.Queue[float]:
    changes: asyncio.Queue[float] = asyncio.Queue()

    @callback
    def on_change(event: Event[Any]) -> None:
        if event.data["entity_id"] == entity_id:
            changes.put_nowait(time.perf_counter())

    hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)
    return changes


@pytest.mark.lan
async def test_event_latency(
    ha_host: Host,  # noqa: F811
    lan: Lan,  # noqa: F811
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    samples: list[float] = []
    agent = start_agent(lan, "bench", CONTROL_CONFIG)
    entry = await discover_and_add(hass, agent)
    assert entry.runtime_data.push
    changes = watch(hass, "event.doorbell_press")
    for _ in range(EVENTS):
        started = time.perf_counter()
        await in_thread(agent.press_button, "doorbell")
        changed = await asyncio.wait_for(changes.get(), SAMPLE_TIMEOUT_S)
        samples.append(changed - started)
    # One event entity state per press: the queue must be empty (samples stayed aligned).
    assert changes.empty()
    report("agent PressCount -> event entity", samples)
    await unload_and_stop(hass, entry, agent)
