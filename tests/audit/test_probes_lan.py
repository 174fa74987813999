"""Active probes on the simulated LAN: an SSDP amplifier and a router with secure mode off
are found; the secure router and a UDA-sized device are not; nothing is left behind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.audit.const import PROBE_DESCRIPTION, CheckId
from custom_components.upnp_guard.audit.inventory import InventoryDevice
from custom_components.upnp_guard.audit.probes import async_probe_amplification
from custom_components.upnp_guard.audit.runner import AuditRunner
from custom_components.upnp_guard.audit.stacks import load_stack_file, shipped_stack_file
from tests.lan import Host, Lan, Router
from tests.router.conftest import upnpc_mappings

from .conftest import run_until_seen, start_device

pytestmark = pytest.mark.lan

CHATTY_UDN = "uuid:00000000-0000-4000-8000-0000000c0001"
LIGHT_UDN = "uuid:00000000-0000-4000-8000-0000000c0002"
NOW = datetime.now(UTC)


async def test_probes_find_amplifier_and_open_router_and_undo(
    ha_host: Host, lan: Lan, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    chatty = lan.add_host("chatty")
    light = lan.add_host("light")
    start_device(chatty, "chatty", CHATTY_UDN)
    start_device(light, "light", LIGHT_UDN)
    assert await async_setup_component(hass, "ssdp", {})
    database = await hass.async_add_executor_job(load_stack_file, shipped_stack_file())
    everyone = {chatty.ip, light.ip, router.ip}

    # Secure mode on (the fixture's router): no finding, and the probe left nothing.
    secure = AuditRunner(hass, database)
    secure.probes.enabled = True
    report = await run_until_seen(secure, everyone)
    found = {(f.check_id, f.address) for f in report.findings}
    assert found == {(CheckId.SSDP_AMPLIFICATION, chatty.ip)}
    assert "AddPortMapping" in router.daemon.output()  # type: ignore[union-attr]
    assert upnpc_mappings(ha_host, router) == []

    amplifier = next(f for f in report.findings if f.address == chatty.ip)
    assert amplifier.details["replies"] >= 20 * amplifier.details["expected_replies"]
    assert amplifier.details["expected_replies"] == 4  # root (3) + SwitchPower (1)
    assert amplifier.details["ratio"] > 100

    # Secure mode off: the router maps for anyone; found, removed, verified.
    router.start_miniupnpd(secure_mode=False)
    opened = AuditRunner(hass, database)
    opened.probes.enabled = True
    report = await run_until_seen(opened, everyone)
    found = {(f.check_id, f.address) for f in report.findings}
    assert found == {
        (CheckId.SSDP_AMPLIFICATION, chatty.ip),
        (CheckId.ROUTER_SECURE_MODE_OFF, router.ip),
    }
    secure_off = next(f for f in report.findings if f.check_id is CheckId.ROUTER_SECURE_MODE_OFF)
    assert secure_off.details["accepted"] is True
    assert secure_off.details["removed"] is True
    assert secure_off.details["internal_client"] not in (ha_host.ip, router.ip)
    assert upnpc_mappings(ha_host, router) == []
    assert PROBE_DESCRIPTION not in router.nft_ruleset()

    # Probed once per interval: the next run sends no new probe, keeps the findings.
    before = opened.probes.probed
    report = await opened.async_run()
    assert opened.probes.probed == before
    assert CheckId.ROUTER_SECURE_MODE_OFF in {f.check_id for f in report.findings}


async def test_amplification_probe_from_an_address_gone_is_not_a_crash(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Home Assistant's address went away mid-run (the search cannot be sent from it):
    the probe answers None, no exception ends the audit run; the next probe from a real
    address measures."""
    light = lan.add_host("light")
    start_device(light, "light", LIGHT_UDN)
    device = InventoryDevice(LIGHT_UDN, light.ip, f"http://{light.ip}:8000/d.xml", first_seen=NOW)
    gone = str(ha_host.network.network_address + 250)  # in the LAN, not Home Assistant's
    assert gone not in {ha_host.ip, light.ip}
    assert await async_probe_amplification(gone, device, wait_s=0.5) is None
    measured = await async_probe_amplification(ha_host.ip, device, wait_s=2)
    assert measured is not None
    assert measured.replies > 0
