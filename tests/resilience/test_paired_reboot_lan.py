"""A paired agent rebooted (SIGKILL, then the same board again) in the middle of a stream
of button presses: Home Assistant accepts no event twice and none out of order. Before the
reboot the presses it saw run 1, 2, 3 ... without a gap or repeat (presses whose NOTIFY
had not left the board die with it); after the reboot the board counts from 1 again under
its new boot id and a fresh signed subscription, and no event of the old boot is accepted
after that (replayed NOTIFYs are refused: tests/appliance/test_paired_agent.py)."""

from __future__ import annotations

import base64
import threading
import time

import pytest
from homeassistant.core import HomeAssistant

from tests.integration.test_agent_lan import in_thread, reloaded, unload_and_stop
from tests.integration.test_paired_agent_lan import pair_and_add
from tests.lan import Host, Lan
from tests.lan.agent import Agent, board_config, boot_id, start_agent
from tests.lan.waits import wait_for
from tests.resilience.boards import track_presses

pytestmark = pytest.mark.lan

BOARD = board_config("Gate agent", "doorbell", security_mode="paired")
PRESSES = 12
PRESS_GAP_S = 0.05
EVENT = "event.doorbell_press"


def press_then_kill(agent: Agent, kill_after: int) -> None:
    """Presses at a steady pace; the board dies (no byebye) after `kill_after` of them,
    while the NOTIFYs of the last ones may still be in flight."""
    for _ in range(kill_after):
        agent.press_button("doorbell")
        time.sleep(PRESS_GAP_S)
    killer = threading.Thread(target=agent.kill)
    killer.start()
    killer.join()


async def test_reboot_mid_stream_accepts_no_event_twice_or_out_of_order(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    agent = start_agent(lan, "gate", BOARD)
    entry = await pair_and_add(hass, base64.b64encode(agent.pairing_key).decode())
    connection = entry.runtime_data
    first_boot = boot_id(agent)
    # (boot: 0 while the first connection holds the board, 1 after the rebuild, press_count)
    seen: list[tuple[int, int]] = []

    def record(press_count: int) -> None:
        boot = 0 if getattr(entry, "runtime_data", None) is connection else 1
        seen.append((boot, press_count))

    unsubscribe = track_presses(hass, EVENT, record)
    await in_thread(press_then_kill, agent, PRESSES)
    agent = await in_thread(agent.restarted)
    assert boot_id(agent) == first_boot + 1
    second = await reloaded(hass, entry, connection, "rebuilt after the reboot")
    await wait_for(lambda: second.subscriptions, "subscribed again")

    def presses() -> None:
        for _ in range(PRESSES):
            agent.press_button("doorbell")
            time.sleep(PRESS_GAP_S)

    await in_thread(presses)
    await wait_for(
        lambda: [c for b, c in seen if b == 1] == list(range(1, PRESSES + 1)),
        "every press of the new boot, once, in order",
    )
    await hass.async_block_till_done()
    unsubscribe()

    before = [count for boot, count in seen if boot == 0]
    after = [count for boot, count in seen if boot == 1]
    assert before == list(range(1, len(before) + 1)), seen  # no repeat, no reordering
    assert len(before) <= PRESSES
    assert after == list(range(1, PRESSES + 1)), seen
    # Nothing of the old boot after the new one began, and nothing from elsewhere.
    assert seen == [(0, c) for c in before] + [(1, c) for c in after]
    assert second.paired is not None
    assert second.paired.rejected_total == 0

    await unload_and_stop(hass, entry, agent)
