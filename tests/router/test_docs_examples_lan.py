"""The automations in docs/automations.md, loaded as written and run for real: a host on
the LAN opens ports on miniupnpd, a time trigger adds a mapping through the action."""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

from tests.lan import Host, Lan

from .conftest import async_setup_router, upnpc_add, upnpc_mappings

pytestmark = pytest.mark.lan

DOC = Path(__file__).parents[2] / "docs" / "automations.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples() -> dict[str, dict[str, Any]]:
    automations = [yaml.safe_load(block) for block in YAML_BLOCK.findall(DOC.read_text())]
    return {automation["alias"]: automation for automation in automations}


async def test_documented_automations_run(
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    examples = _examples()
    assert set(examples) == {
        "Port opened on the router",
        "Dangerous port mapping",
        "Doorbell",
        "Game server for the evening",
    }
    router = lan.add_router()
    # This router lets the LAN map privileged internal ports too (SMB below).
    router.start_miniupnpd(allow_rules=[f"allow 1024-65535 {lan.lan_net} 1-65535"])
    infected = lan.add_host("infected")
    notify = async_mock_service(hass, "notify", "mobile_app_phone")
    assert await async_setup_component(
        hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: list(examples.values())}
    )
    entry = await async_setup_router(hass, router)

    # A harmless-looking mapping: only the first automation speaks.
    await hass.async_add_executor_job(upnpc_add, infected, router, 28000)
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert [call.data["title"] for call in notify] == ["Port mapping on the router"]
    assert notify[0].data["message"] == f"{infected.ip} opened TCP 28000 (unknown_client)"

    # SMB to the internet: both port automations speak.
    notify.clear()
    await hass.async_add_executor_job(
        functools.partial(upnpc_add, infected, router, 4445, internal_port=445)
    )
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert sorted(call.data["title"] for call in notify) == [
        "Check the router now",
        "Port mapping on the router",
    ]
    dangerous = next(call for call in notify if call.data["title"] == "Check the router now")
    assert dangerous.data["message"] == f"policy_violation: TCP 4445 to {infected.ip}"

    # The doorbell: a press notifies; the entity coming back from unavailable does not.
    notify.clear()
    hass.states.async_set("event.doorbell_press", "unavailable")
    await hass.async_block_till_done()
    hass.states.async_set(
        "event.doorbell_press",
        "2026-12-02T20:00:00.000+00:00",
        {"event_type": "press", "press_count": 7},
    )
    await hass.async_block_till_done()
    assert notify == []
    hass.states.async_set(
        "event.doorbell_press",
        "2026-12-02T20:00:05.000+00:00",
        {"event_type": "press", "press_count": 8},
    )
    await hass.async_block_till_done()
    assert [call.data["message"] for call in notify] == ["Someone is at the door (press 8)"]

    # 19:00: the script opens the game server's port on the real router, with a lease.
    notify.clear()
    now = dt_util.now()
    seven = now.replace(hour=19, minute=0, second=0, microsecond=0)
    if seven <= now:
        seven += timedelta(days=1)
    async_fire_time_changed(hass, seven + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    rows = await hass.async_add_executor_job(upnpc_mappings, infected, router)
    game = next(row for row in rows if row["external_port"] == 25565)
    assert game["internal_client"] == ha_host.ip
    assert 0 < game["lease"] <= 14400
    assert len(notify) == 1
    assert re.fullmatch(r"Port 25565 open for \d+ s", notify[0].data["message"])

    # Automations keep their time triggers until they stop.
    await hass.services.async_call(
        AUTOMATION_DOMAIN, "turn_off", {"entity_id": "all"}, blocking=True
    )
