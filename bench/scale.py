"""Scale: one Home Assistant with AGENTS agents (32-bit frozen build, 64 KB heap each),
STOCK stock async-upnp-client DimmableLights and the miniupnpd router, on one LAN.

    scripts/test --no-lint bench/scale.py -q -s -p no:randomly

(scripts/test enters a chroot that may not pass environment variables through: edit
AGENTS / LOAD_S here for other sizes.) Measured, in one run:

- setup: from starting Home Assistant's ssdp integration (the router entry is already
  loaded) to every discovered device confirmed, loaded, and every entity with a state;
- memory: the test process's RSS (Home Assistant runs in it) after setup minus before
  the ssdp integration started, per device (agents + stock + router), after a
  gc.collect(): an upper bound that includes the discovery caches;
- event latency under load: every agent gets one doorbell press a second (staggered
  evenly over the second, written to its stdin), for LOAD_S seconds; a sample runs from
  the write to Home Assistant's state write of that agent's event entity;
- control latency under that load: `switch.turn_on`/`turn_off` on the agents' relays in
  turn, one call at a time, from the call to its return;
- afterwards, each agent's heap peak (its own sampling, `stats`): all still running.

Every wait is bounded (SETUP_LIMIT_S, SAMPLE_TIMEOUT_S); the `lan` fixture stops every
process and deletes every namespace, also on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import sys
import time
from collections import deque
from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component

import custom_components.upnp_guard  # noqa: F401  (Home Assistant finds the integration)
from bench.event_latency import SAMPLE_TIMEOUT_S
from bench.reference_common import start_stock
from bench.reference_ha import summary, write_line
from custom_components.upnp_guard.const import DOMAIN
from tests.integration.test_agent_lan import in_thread
from tests.lan import Host, Lan
from tests.lan.agent import READY_TIMEOUT, Agent, board_config, start_agent
from tests.lan.fixtures import ha_host, lan  # noqa: F401
from tests.lan.waits import wait_for
from tests.router.conftest import async_setup_router

AGENTS = 50
STOCK = 5
LOAD_S = 60
CONTROL_PAUSE_S = 0.25
SETUP_LIMIT_S = 300.0
DRAIN_S = 5.0
RAW_IDS = 1_000_000

# One relay (SwitchPower) and one button (BinaryInput): two subscriptions per agent.
SCALE_CONFIG = board_config("Board", "relay", "doorbell")


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def start_agents(network: Lan, count: int) -> list[Agent]:
    agents = []
    for index in range(count):
        config = {**SCALE_CONFIG, "friendly_name": f"Board {index:02d}"}
        agents.append(
            start_agent(network, f"a{index:02d}", config, log_level="warning", wait=False)
        )
    for agent in agents:
        agent.process.wait_for_output(r"agent ready", timeout=READY_TIMEOUT)
    return agents


def print_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def confirm_all(hass: HomeAssistant, count: int) -> list[Any]:
    """Confirm discovery flows as they come until `count` entries were created."""
    entries: list[Any] = []
    deadline = time.monotonic() + SETUP_LIMIT_S
    while len(entries) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(entries)} of {count} devices discovered")
        flows = [
            flow
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["step_id"] == "confirm"
        ]
        for flow in flows:
            result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
            if result["type"] == "create_entry":
                entries.append(result["result"])
        await asyncio.sleep(0.1)
    return entries


def entities_of(hass: HomeAssistant, entry_id: str, domain: str | None = None) -> list[str]:
    """The enabled entities of a config entry (of one domain if given)."""
    return [
        item.entity_id
        for item in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
        if item.disabled_by is None and domain in (None, item.domain)
    ]


async def set_up(hass: HomeAssistant) -> list[Any]:
    """Discover and add every device; print the setup time and Home Assistant's memory."""
    gc.collect()
    rss_before = rss_bytes()
    started = time.perf_counter()
    assert await async_setup_component(hass, "ssdp", {})
    entries = await confirm_all(hass, AGENTS + STOCK)
    print_line(f"{len(entries)} entries created in {time.perf_counter() - started:.1f} s")
    await hass.async_block_till_done()
    every = [entity for entry in entries for entity in entities_of(hass, entry.entry_id)]

    def ready() -> bool:
        states = [hass.states.get(entity_id) for entity_id in every]
        return all(state is not None and state.state != STATE_UNAVAILABLE for state in states)

    await wait_for(ready, "every entity has a state", SETUP_LIMIT_S)
    setup_s = time.perf_counter() - started
    gc.collect()
    grown = rss_bytes() - rss_before
    devices = AGENTS + STOCK + 1
    print_line(
        f"setup: {devices} devices ({len(entries)} discovered + router), {len(every)} "
        f"entities, {setup_s:.1f} s; HA RSS +{grown / 2**20:.1f} MiB "
        f"({grown / devices / 1024:.0f} KiB per device; RSS {rss_bytes() / 2**20:.0f} MiB)"
    )
    return entries


class Load:
    """One press a second per agent, and control calls on their relays meanwhile."""

    def __init__(self, hass: HomeAssistant, agents: list[Agent], entries: list[Any]) -> None:
        self.hass = hass
        self.agents = agents
        by_location = {entry.data["location"]: entry for entry in entries}
        self.bells: dict[str, int] = {}
        self.relays: list[str] = []
        for index, agent in enumerate(agents):
            entry_id = by_location[agent.description_url].entry_id
            [bell] = entities_of(hass, entry_id, "event")
            [relay] = entities_of(hass, entry_id, "switch")
            self.bells[bell] = index
            self.relays.append(relay)
        self.pending: list[deque[float]] = [deque() for _ in agents]
        self.samples: list[float] = []
        self.control: list[float] = []
        self.unexpected = 0
        self.drained = asyncio.Event()

    @callback
    def on_change(self, event: Event[Any]) -> None:
        index = self.bells.get(event.data["entity_id"])
        if index is None:
            return
        if self.pending[index]:
            self.samples.append(time.perf_counter() - self.pending[index].popleft())
        else:
            self.unexpected += 1
        if not any(self.pending):
            self.drained.set()

    async def presses(self) -> int:
        begin = time.perf_counter()
        total = AGENTS * LOAD_S
        for tick in range(total):
            await asyncio.sleep(max(0.0, begin + tick / AGENTS - time.perf_counter()))
            self.drained.clear()
            self.pending[tick % AGENTS].append(time.perf_counter())
            # Ids apart from Agent.command's (1, 2, ...): its replies stay unambiguous.
            agent = self.agents[tick % AGENTS]
            write_line(agent.process, f"{RAW_IDS + tick} press doorbell")
        return total

    async def calls(self, stop: asyncio.Event) -> None:
        index = 0
        while not stop.is_set():
            on = (index // AGENTS) % 2 == 0
            begin = time.perf_counter()
            await self.hass.services.async_call(
                "switch",
                "turn_on" if on else "turn_off",
                {"entity_id": self.relays[index % AGENTS]},
                blocking=True,
            )
            self.control.append(time.perf_counter() - begin)
            index += 1
            await asyncio.sleep(CONTROL_PAUSE_S)

    async def run(self) -> None:
        unsubscribe = self.hass.bus.async_listen(EVENT_STATE_CHANGED, self.on_change)
        stop = asyncio.Event()
        caller = asyncio.create_task(self.calls(stop))
        sent = await asyncio.wait_for(self.presses(), LOAD_S * 2 + SAMPLE_TIMEOUT_S)
        stop.set()
        await asyncio.wait_for(caller, SAMPLE_TIMEOUT_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained.wait(), DRAIN_S)
        unsubscribe()
        lost = sum(len(queue) for queue in self.pending)
        print_line(
            f"events: {sent} presses ({AGENTS}/s for {LOAD_S} s), {len(self.samples)} state "
            f"writes, {lost} missing, {self.unexpected} unexpected: {summary(self.samples)}"
        )
        print_line(f"control under that load: {summary(self.control)}")


@pytest.mark.lan
@pytest.mark.timeout(SETUP_LIMIT_S + 3 * LOAD_S + 300)
async def test_scale(
    ha_host: Host,  # noqa: F811
    lan: Lan,  # noqa: F811
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    router = lan.add_router()
    router.start_miniupnpd(secure_mode=True)
    started = time.perf_counter()
    agents = start_agents(lan, AGENTS)
    for index in range(STOCK):
        start_stock(lan, f"s{index}", index + 1)
    print_line(
        f"\n{AGENTS} agents and {STOCK} stock lights up in {time.perf_counter() - started:.1f} s"
    )
    router_entry = await async_setup_router(hass, router)
    entries = await set_up(hass)
    await Load(hass, agents, entries).run()
    peaks = [int((await in_thread(agent.stats))["heap_peak"]) for agent in agents]
    assert all(agent.alive() for agent in agents)
    print_line(
        f"agents' heap peak (64 KB heap, sampled by each agent): min {min(peaks)} B, "
        f"median {statistics.median(peaks):.0f} B, max {max(peaks)} B"
    )
    for entry in [*entries, router_entry]:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
