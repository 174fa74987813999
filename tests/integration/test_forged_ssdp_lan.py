"""Forged SSDP against a configured stock light, over real SSDP (issue #10, item 1).

Another host sends ssdp:byebye and ssdp:alive with a new BOOTID in the light's name;
Home Assistant's own scanner passes them on with their source address, and the
integration ignores them (counted as foreign_announcements): the light stays available
and keeps its subscriptions. The light's own byebye still counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.transport import device_requester
from tests.lan import Host, Lan
from tests.lan.waits import wait_for

from .test_appliance_lan import LIGHT_PORT, LIGHT_UDN, light_discovery_flow, start_light, state

pytestmark = pytest.mark.lan

ROGUE_SSDP = str(Path(__file__).parents[1] / "lan" / "rogue_ssdp.py")
ROOT = "upnp:rootdevice"


async def test_forged_byebye_and_bootid_from_another_host_are_ignored(
    ha_host: Host,
    lan: Lan,
    attacker: Host,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    light_host = lan.add_host("light")
    light = start_light(light_host, boot_id=1)
    location = f"http://{light_host.ip}:{LIGHT_PORT}/device.xml"
    flow = await light_discovery_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    entry = result["result"]
    await hass.async_block_till_done()
    connection = entry.runtime_data
    await wait_for(lambda: state(hass) not in (None, STATE_UNAVAILABLE), "light available")
    sids = set(connection.subscriptions)
    counters = device_requester(hass).counters
    before = counters.foreign_announcements

    def forge(nts: str, boot_id: str = "") -> None:
        attacker.run(
            sys.executable, ROGUE_SSDP, attacker.ip, nts, LIGHT_UDN, ROOT, location, boot_id
        )

    await hass.async_add_executor_job(forge, "ssdp:byebye")
    await wait_for(lambda: counters.foreign_announcements > before, "forged byebye seen")
    await hass.async_add_executor_job(forge, "ssdp:alive", "99")
    await wait_for(lambda: counters.foreign_announcements > before + 1, "forged alive seen")
    await hass.async_block_till_done()
    assert state(hass) not in (None, STATE_UNAVAILABLE)
    assert connection.available
    assert connection.reconnect_count == 0
    assert set(connection.subscriptions) == sids
    assert connection.boot_id != 99

    # The light's own byebye (SIGTERM) still makes it unavailable at once.
    light.stop()
    await wait_for(lambda: state(hass) == STATE_UNAVAILABLE, "own byebye -> unavailable")
