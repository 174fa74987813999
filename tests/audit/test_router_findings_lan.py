"""The audit reuses what a router entry knows: a risky mapping on miniupnpd becomes
UG-ROUTER-001 (no second repair issue: the router entry has its own); nothing else is
reported for the secure router."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.audit.const import CheckId, Severity
from custom_components.upnp_guard.audit.publish import FindingPublisher
from custom_components.upnp_guard.audit.router_findings import router_findings
from custom_components.upnp_guard.audit.runner import AuditRunner
from custom_components.upnp_guard.audit.stacks import load_stack_file, shipped_stack_file
from custom_components.upnp_guard.const import DOMAIN
from tests.lan import Host, Lan, Router
from tests.router.conftest import async_setup_router, upnpc_add

pytestmark = pytest.mark.lan


async def test_risky_mapping_reused_from_router_entry(
    ha_host: Host, lan: Lan, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    attacker = lan.add_host("attacker")
    entry = await async_setup_router(hass, router)
    assert router_findings(hass) == []  # an empty table: nothing to report
    upnpc_add(attacker, router, 3389, description="rdp")
    await entry.runtime_data.coordinator.async_refresh()

    findings = router_findings(hass)
    assert [(f.check_id, f.subject, f.severity) for f in findings] == [
        (CheckId.ROUTER_RISKY_MAPPING, "tcp_3389_any", Severity.HIGH)
    ]
    assert findings[0].details["internal_client"] == attacker.ip
    assert "dangerous_service" in findings[0].details["risk_flags"]
    assert findings[0].details["router_entry_id"] == entry.entry_id

    # In a run: the router's own description is clean (secure miniupnpd), the mapping is
    # the one finding; it raises no audit repair (the router entry has its own).
    assert await async_setup_component(hass, "ssdp", {})
    database = await hass.async_add_executor_job(load_stack_file, shipped_stack_file())
    runner = AuditRunner(hass, database, extra_findings=[router_findings])
    report = await runner.async_run()
    assert [f.check_id for f in report.findings] == [CheckId.ROUTER_RISKY_MAPPING]
    publisher = FindingPublisher(hass, "audit-entry")
    publisher.publish(report.findings)
    assert publisher.issues == set()
    assert not [i for (d, i) in ir.async_get(hass).issues if d == DOMAIN and i.startswith("audit_")]
