"""Helpers for the audit's LAN tests: third-party devices (lan_audit_device.py), the
audit's offer, bounded waits for what the network answers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.audit.const import AUDIT_UNIQUE_ID
from custom_components.upnp_guard.audit.coordinator import AuditCoordinator
from custom_components.upnp_guard.audit.runner import AuditReport, AuditRunner
from custom_components.upnp_guard.const import DOMAIN
from tests.lan import Host, Process

DEVICE_SCRIPT = Path(__file__).with_name("lan_audit_device.py")
DEVICE_PORT = "49152"
# Each audit run is one search: a lost datagram is another run.
AUDIT_RUNS = 5


def start_device(host: Host, kind: str, udn: str) -> Process:
    """Start a test device of `kind` (see lan_audit_device.py) on `host`."""
    proc = host.start(sys.executable, str(DEVICE_SCRIPT), kind, host.ip, DEVICE_PORT, udn)
    proc.wait_for_output(r"ready", timeout=30)
    return proc


async def run_until_seen(runner: AuditRunner, addresses: set[str]) -> AuditReport:
    """Audit runs (each one search) until every address is in the inventory (bounded)."""
    for _ in range(AUDIT_RUNS):
        report = await runner.async_run()
        if addresses <= {device["address"] for device in report.devices}:
            return report
    raise AssertionError(f"not all of {addresses} answered: {report.devices}")


async def refresh_until(coordinator: AuditCoordinator, check: Callable[[], object]) -> None:
    """Refresh the audit entry (at most AUDIT_RUNS runs) until `check()` holds; the caller
    asserts what it needs afterwards."""
    for _ in range(AUDIT_RUNS):
        if check():
            return
        await coordinator.async_refresh()


def audit_offer(hass: HomeAssistant) -> ConfigFlowResult:
    """The discovery flow that offers the network audit (offered, never added by itself)."""
    (offer,) = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("unique_id") == AUDIT_UNIQUE_ID
    ]
    return offer
