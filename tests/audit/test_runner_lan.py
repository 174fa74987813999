"""The passive audit on the simulated LAN: exact findings per device, none for the
secure router or a current stack."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.audit import checks
from custom_components.upnp_guard.audit.const import CheckId
from custom_components.upnp_guard.audit.runner import AuditRunner
from custom_components.upnp_guard.audit.stacks import load_stack_file, shipped_stack_file
from tests.firmware.e2e import description, exchange, soap, status
from tests.lan import Host, Lan, Router
from tests.lan.agent import PAIRED_CONFIG, start_agent

from .conftest import run_until_seen, start_device

pytestmark = pytest.mark.lan

LIBUPNP_UDN = "uuid:00000000-0000-4000-8000-0000000a0001"
LANHOST_UDN = "uuid:00000000-0000-4000-8000-0000000a0002"
LIGHT_UDN = "uuid:00000000-0000-4000-8000-0000000a0003"
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"


async def test_passive_audit_exact_findings(
    ha_host: Host, lan: Lan, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    libupnp = lan.add_host("libupnp")
    lanhost = lan.add_host("lanhost")
    light = lan.add_host("light")
    start_device(libupnp, "libupnp", LIBUPNP_UDN)
    lanhost_proc = start_device(lanhost, "lanhost", LANHOST_UDN)
    start_device(light, "light", LIGHT_UDN)
    agent = start_agent(lan, "agent")  # DEFAULT_CONFIG: open mode, an audit finding
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()
    database = await hass.async_add_executor_job(load_stack_file, shipped_stack_file())
    runner = AuditRunner(hass, database)

    everyone = {libupnp.ip, lanhost.ip, light.ip, agent.ip, router.ip}
    report = await run_until_seen(runner, everyone)

    found = {(f.check_id, f.address) for f in report.findings}
    assert found == {
        (CheckId.VULNERABLE_STACK, libupnp.ip),
        (CheckId.LAN_HOST_CONFIG_SET, lanhost.ip),
        (CheckId.AGENT_OPEN_MODE, agent.ip),
    }
    stack = next(f for f in report.findings if f.check_id is CheckId.VULNERABLE_STACK)
    assert stack.possible
    assert stack.details["stack"] == "libupnp"
    assert stack.details["version"] == "1.6.6"
    assert "CVE-2012-5958" in stack.details["cves"]
    assert "CVE-2016-8863" in stack.details["cves"]
    assert stack.severity == "critical"
    lan_cfg = next(f for f in report.findings if f.check_id is CheckId.LAN_HOST_CONFIG_SET)
    assert lan_cfg.details["actions"] == [
        "DeleteDNSServer",
        "SetDHCPServerConfigurable",
        "SetDNSServer",
    ]
    # The inventory: every root device with what it said about itself.
    by_address = {device["address"]: device for device in report.devices}
    assert "Portable SDK for UPnP devices/1.6.6" in by_address[libupnp.ip]["server"]
    assert "MiniUPnPd/2.3.10" in by_address[router.ip]["server"]
    assert by_address[lanhost.ip]["service_types"] == [
        "urn:schemas-upnp-org:service:LANHostConfigManagement:1"
    ]
    assert by_address[light.ip]["presentation_url"] == f"http://{light.ip}/"
    assert by_address[router.ip]["device_type"].startswith(
        "urn:schemas-upnp-org:device:InternetGatewayDevice:"
    )
    assert report.unreachable == []
    # Root devices only (the router's embedded WANDevice and WANConnectionDevice answer
    # the search with their own UDNs too).
    assert len(report.devices) == len(everyone)
    # No action was called on any device: the checks only read; probes are off.
    assert "ACTION" not in lanhost_proc.output()
    assert "AddPortMapping" not in router.daemon.output()  # type: ignore[union-attr]
    assert report.score == 100 - 40 - 20 - 20


@pytest.mark.usefixtures("ha_host", "router", "enable_custom_integrations")
async def test_paired_agent_findings_come_from_its_own_answers(
    lan: Lan, hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A current paired agent has no finding; requests without the key that it refused
    (from another host) make UG-AGENT-003 with its count; a newer known release makes its
    real version UG-AGENT-002."""
    agent = start_agent(lan, "agent", PAIRED_CONFIG, key=bytes(range(32)))
    attacker = lan.add_host("attacker")
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()
    database = await hass.async_add_executor_job(load_stack_file, shipped_stack_file())
    runner = AuditRunner(hass, database)

    report = await run_until_seen(runner, {agent.ip})
    assert [f for f in report.findings if f.address == agent.ip] == []

    def attack() -> list[int]:
        desc = description(attacker, agent)
        request = soap(agent, desc, SWITCH, "SetTarget", "<newTargetValue>1</newTargetValue>")
        return [status(exchange(attacker, agent, request)) for _ in range(2)]

    assert await hass.async_add_executor_job(attack) == [401, 401]
    report = await runner.async_run(search=False)
    found = [f for f in report.findings if f.address == agent.ip]
    assert [(f.check_id, f.details) for f in found] == [
        (CheckId.AGENT_AUTH_FAILURES, {"auth_failures": 2})
    ]
    assert agent.pins()["5"] == 0  # nothing switched

    monkeypatch.setattr(checks, "AGENT_FIRMWARE_LATEST", "0.99.0")
    report = await runner.async_run(search=False)
    outdated = [f for f in report.findings if f.check_id is CheckId.AGENT_OUTDATED]
    assert [(f.address, f.details) for f in outdated] == [
        (agent.ip, {"version": "0.1.0", "latest": "0.99.0"})
    ]
