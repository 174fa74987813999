"""The off-subnet search probe (UG-SSDP-002) on the simulated LAN.

Home Assistant gets a second address on another network, routed by the router: a stock
async-upnp-client device (answers any search) and miniupnpd are found, our agent (drops
searches from outside its subnet, firmware/upnpguard/responder.py) is not. Without an
address on another LAN network (only link-local or public ones besides the LAN's) the
check is reported as not testable, not as a finding.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.audit.const import NOT_TESTABLE_NO_OTHER_NETWORK, CheckId
from custom_components.upnp_guard.audit.runner import AuditReport, AuditRunner
from custom_components.upnp_guard.audit.stacks import load_stack_file, shipped_stack_file
from tests.lan import Host, Lan, Router
from tests.lan.agent import start_agent
from tests.lan.subnet import add_second_network

from .conftest import run_until_seen, start_device

pytestmark = pytest.mark.lan

LIGHT_UDN = "uuid:00000000-0000-4000-8000-0000000e0001"


def adapter(name: str, index: int, addresses: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "auto": True,
        "default": index == 0,
        "enabled": True,
        "index": index,
        "ipv4": [{"address": ip, "network_prefix": prefix} for ip, prefix in addresses],
        "ipv6": [],
        "name": name,
    }


async def probe_all(
    hass: HomeAssistant, adapters: list[dict[str, Any]], addresses: set[str]
) -> AuditReport:
    with patch("homeassistant.components.network.async_get_adapters", return_value=adapters):
        assert await async_setup_component(hass, "ssdp", {})
        database = await hass.async_add_executor_job(load_stack_file, shipped_stack_file())
        runner = AuditRunner(hass, database)
        runner.probes.enabled = True
        return await run_until_seen(runner, addresses)


def off_subnet(report: AuditReport) -> set[str]:
    return {f.address for f in report.findings if f.check_id is CheckId.SSDP_OFF_SUBNET}


def untestable(report: AuditReport) -> set[str]:
    return {
        item["address"]
        for item in report.not_testable
        if item["check_id"] == CheckId.SSDP_OFF_SUBNET
    }


async def test_device_answering_another_network_is_found(
    ha_host: Host, lan: Lan, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    light = lan.add_host("light")
    start_device(light, "light", LIGHT_UDN)
    agent = start_agent(lan, "agent")
    second = add_second_network(lan, ha_host)
    adapters = [
        adapter("eth0", 0, [(ha_host.ip, ha_host.network.prefixlen)]),
        adapter("eth1", 1, [(str(second.ip), second.network.prefixlen)]),
    ]
    report = await probe_all(hass, adapters, {light.ip, agent.ip, router.ip})

    # miniupnpd 2.3.10 answers too: it takes a search arriving on its LAN interface as
    # the LAN's, whatever the source ("SSDP M-SEARCH from 192.168.x.10 ... Single search
    # found" in its log).
    assert off_subnet(report) == {light.ip, router.ip}
    (finding,) = [
        f
        for f in report.findings
        if f.check_id is CheckId.SSDP_OFF_SUBNET and f.address == light.ip
    ]
    assert finding.details["source"] == str(second.ip)
    assert finding.details["replies"] >= 1
    assert finding.placeholders["source"] == str(second.ip)
    assert untestable(report) == set()
    report_dict = report.as_dict()
    assert any(f["check_id"] == "UG-SSDP-002" for f in report_dict["findings"])
    # The agent saw searches from the other network and dropped them.
    assert agent.stats()["ssdp_dropped_foreign"] > 0


async def test_not_testable_without_another_lan_network(
    ha_host: Host, lan: Lan, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    light = lan.add_host("light")
    start_device(light, "light", LIGHT_UDN)
    # Besides the LAN's, only a link-local and a public address: neither may be used.
    ha_host.run("ip", "addr", "add", "169.254.7.7/16", "dev", "eth0")
    ha_host.run("ip", "addr", "add", "198.51.100.7/24", "dev", "eth0")
    adapters = [
        adapter(
            "eth0",
            0,
            [(ha_host.ip, ha_host.network.prefixlen), ("169.254.7.7", 16), ("198.51.100.7", 24)],
        )
    ]
    report = await probe_all(hass, adapters, {light.ip, router.ip})

    assert off_subnet(report) == set()
    assert untestable(report) == {light.ip, router.ip}
    entry = next(i for i in report.as_dict()["not_testable"] if i["address"] == light.ip)
    assert entry == {
        "check_id": "UG-SSDP-002",
        "address": light.ip,
        "reason": NOT_TESTABLE_NO_OTHER_NETWORK,
    }
