"""The audit entry in real Home Assistant on the simulated LAN: offered by discovery,
score sensor, repair issues with their fix flow, events, the report action, diagnostics,
and a user data file that does not validate."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import ExitStack
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.upnp_guard.audit.const import (
    EVENT_AUDIT_FINDING,
    ISSUE_STACKS_FILE_INVALID,
    USER_STACKS_FILE,
    CheckId,
)
from custom_components.upnp_guard.const import DOMAIN
from tests.lan import Host, Lan, Router
from tests.lan.agent import start_agent
from tests.lan.waits import wait_for

from .conftest import audit_offer, refresh_until, start_device

pytestmark = pytest.mark.lan

LIBUPNP_UDN = "uuid:00000000-0000-4000-8000-0000000b0001"
LANHOST_UDN = "uuid:00000000-0000-4000-8000-0000000b0002"
LATE_UDN = "uuid:00000000-0000-4000-8000-0000000b0003"
SCORE = "sensor.upnp_network_audit_security_score"
COORDINATOR = "custom_components.upnp_guard.audit.coordinator"


@pytest.fixture
def stack() -> Generator[ExitStack]:
    with ExitStack() as exits:
        yield exits


async def test_audit_entry_end_to_end(  # noqa: PLR0917
    ha_host: Host,
    lan: Lan,
    router: Router,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    enable_custom_integrations: None,
    stack: ExitStack,
) -> None:
    libupnp = lan.add_host("libupnp")
    lanhost = lan.add_host("lanhost")
    start_device(libupnp, "libupnp", LIBUPNP_UDN)
    lanhost_proc = start_device(lanhost, "lanhost", LANHOST_UDN)
    agent = start_agent(lan, "agent")
    # A user file with a mistake: left out as a whole, said in a repair; the shipped
    # data still runs.
    await hass.async_add_executor_job(
        Path(hass.config.path(USER_STACKS_FILE)).write_text,
        '{"format": 1, "advisories": [{"stack": "libupnp", "cves": ["CVE-2099-1"]}]}',
    )
    events = async_capture_events(hass, EVENT_AUDIT_FINDING)
    stack.enter_context(patch(f"{COORDINATOR}.DISCOVERY_DEBOUNCE_S", 1.0))
    assert await async_setup_component(hass, "ssdp", {})
    assert await async_setup_component(hass, "repairs", {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    # Offered, not added: a discovery flow the user confirms.
    flow = audit_offer(hass)
    assert flow["step_id"] == "audit_confirm"
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] == "create_entry"
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator

    everyone = {libupnp.ip, lanhost.ip, agent.ip, router.ip}

    def seen_everyone() -> bool:
        return everyone <= {d["address"] for d in coordinator.data.devices}

    await refresh_until(coordinator, seen_everyone)
    assert seen_everyone()

    issues = ir.async_get(hass)
    bad_file = issues.async_get_issue(DOMAIN, ISSUE_STACKS_FILE_INVALID)
    assert bad_file is not None
    assert "advisories[0]: 'affected' is required" in bad_file.translation_placeholders["error"]

    by_check = {f.check_id.value: f for f in coordinator.data.findings}
    assert sorted(by_check) == ["UG-AGENT-001", "UG-CTRL-002", "UG-STACK-001"]
    assert by_check["UG-STACK-001"].address == libupnp.ip
    assert by_check["UG-CTRL-002"].address == lanhost.ip
    assert by_check["UG-AGENT-001"].address == agent.ip
    raised = {
        issue.translation_key: issue_id
        for (domain, issue_id), issue in issues.issues.items()
        if domain == DOMAIN and issue_id.startswith("audit_ug")
    }
    assert set(raised) == {"audit_ug_stack_001", "audit_ug_ctrl_002", "audit_ug_agent_001"}

    # Score: 100 - critical 40 - high 20 - high 20; counts per category.
    state = hass.states.get(SCORE)
    assert state is not None
    assert state.state == "20"
    assert state.attributes["category_vulnerable_stack"] == 1
    assert state.attributes["category_unauthenticated_control"] == 1
    assert state.attributes["category_agent"] == 1
    assert state.attributes["category_router"] == 0
    assert state.attributes["severity_critical"] == 1

    # One event per finding, not one per run.
    await coordinator.async_refresh()
    assert sorted(e.data["check_id"] for e in events) == [
        "UG-AGENT-001",
        "UG-CTRL-002",
        "UG-STACK-001",
    ]

    # The report action.
    response = await hass.services.async_call(
        DOMAIN, "audit_report", {}, blocking=True, return_response=True
    )
    assert response is not None
    assert response["score"] == 20
    assert {d["address"] for d in response["devices"]} == everyone  # type: ignore[union-attr]
    assert LIBUPNP_UDN in repr(response)

    # Diagnostics: the full report, UDNs redacted.
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["report"]["score"] == 20
    assert len(diagnostics["report"]["findings"]) == 3
    assert LIBUPNP_UDN not in repr(diagnostics)
    assert diagnostics["stacks"] == [
        "dlink-dir859-upnp",
        "huawei-hg532-upnp",
        "libupnp",
        "miniupnpd",
    ]

    manager = repairs_flow_manager(hass)
    assert manager is not None
    # Fix flow, not fixed: the audit reads the device again and the issue stays.
    result = await manager.async_init(DOMAIN, data={"issue_id": raised["audit_ug_stack_001"]})
    assert result["type"] == "form"
    assert result["description_placeholders"]["page"] == f"[{libupnp.ip}](http://{libupnp.ip}/)"
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] == "abort"
    assert result["reason"] == "audit_still_present"
    assert issues.async_get_issue(DOMAIN, raised["audit_ug_stack_001"]) is not None

    # Fixed: the LAN-config device is replaced by firmware without the service (same
    # UDN, same address): the fix flow's fresh look closes the issue.
    lanhost_proc.stop()
    start_device(lanhost, "light", LANHOST_UDN)
    result = await manager.async_init(DOMAIN, data={"issue_id": raised["audit_ug_ctrl_002"]})
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    assert issues.async_get_issue(DOMAIN, raised["audit_ug_ctrl_002"]) is None
    await wait_for(lambda: hass.states.get(SCORE).state == "40", "score after the fix")  # type: ignore[union-attr]

    # A device that boots now is audited without anyone asking: its ssdp:alive starts a
    # run (debounced; the cooldown is shortened for the test).
    late = lan.add_host("late")
    start_device(late, "libupnp", LATE_UDN)
    await wait_for(
        lambda: late.ip in {d["address"] for d in coordinator.data.devices}, "run on discovery"
    )
    assert (CheckId.VULNERABLE_STACK, late.ip) in {
        (f.check_id, f.address) for f in coordinator.data.findings
    }

    # Active probes: off by default, turned on in the options; the next run probes.
    runner = coordinator.runner
    assert not runner.probes.enabled
    assert runner.probes.probed == 0
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "audit"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"active_probes": True}
    )
    assert result["type"] == "create_entry"
    assert runner.probes.enabled
    await wait_for(lambda: runner.probes.probed >= len(everyone), "a probing run")
    assert "AddPortMapping" in router.daemon.output()  # type: ignore[union-attr]

    # Unloaded: its issues go with it; a fix flow open meanwhile says so when confirmed.
    opened = await manager.async_init(DOMAIN, data={"issue_id": raised["audit_ug_stack_001"]})
    assert opened["type"] == "form"
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not [i for (d, i) in issues.issues if d == DOMAIN and i.startswith("audit_ug")]
    result = await manager.async_configure(opened["flow_id"], {})
    assert (result["type"], result["reason"]) == ("abort", "audit_not_loaded")
