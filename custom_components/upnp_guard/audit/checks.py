"""The passive checks: pure functions over what a device said (inventory, description).

Each returns findings (findings.py) with a stable check ID (const.CheckId). None sends
anything to a device except `async_agent_info`, which calls our agent's read-only GetInfo
(open to anyone by design).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Final

from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice, UpnpService
from async_upnp_client.exceptions import UpnpError

from .. import lan_text
from ..appliance.const import AGENT_DEVICE_TYPE, AGENT_INFO, SECURITY_MODE_OPEN
from ..router.const import CONNECTION_SERVICE_TYPES, LAN_HOST_CONFIG_SERVICE_TYPE
from .const import AGENT_FIRMWARE_LATEST, Category, CheckId, Severity
from .findings import SEVERITY_ORDER, Finding
from .inventory import InventoryDevice
from .stacks import StackDatabase, StackMatch
from .version import Version, parse_version

# DeviceProtection:1 (UPnP's access control): a device that has it may refuse these
# actions to unknown control points, so they are not reported as unauthenticated.
DEVICE_PROTECTION: Final = "urn:schemas-upnp-org:service:DeviceProtection:1"
# MiniUPnPd lists ForceTermination in its SCPD but answers every call with 606 (Action
# not authorized, upnpsoap.c): its SERVER header is trusted for this one exemption (a
# device lying about itself only hides its own finding).
_REFUSES_FORCE_TERMINATION: Final = ("MiniUPnPd/",)
# LANHostConfigManagement actions that change the LAN's configuration (DNS servers, DHCP,
# the default router, address ranges): Set*, Delete*.
_STATE_CHANGING_PREFIXES: Final = ("Set", "Delete")


def _name(device: InventoryDevice) -> str:
    return device.friendly_name or device.model_name or device.address


def make_finding(
    device: InventoryDevice,
    check_id: CheckId,
    severity: Severity,
    category: Category,
    *,
    subject: str = "",
    placeholders: dict[str, str] | None = None,
    details: dict[str, object] | None = None,
    possible: bool = False,
) -> Finding:
    return Finding(
        check_id=check_id,
        severity=severity,
        category=category,
        udn=device.udn,
        address=device.address,
        device_name=_name(device),
        placeholders={"name": _name(device), "address": device.address, **(placeholders or {})},
        details=dict(details or {}),
        subject=subject,
        possible=possible,
    )


def check_vulnerable_stack(device: InventoryDevice, db: StackDatabase) -> list[Finding]:
    """UG-STACK-001: one finding per stack the device possibly runs at an affected version
    (every matching advisory's CVEs together, the worst severity)."""
    by_stack: dict[str, list[StackMatch]] = {}
    for match in db.match(
        device.server, device.manufacturer, device.model_name, device.model_number
    ):
        by_stack.setdefault(match.stack.id, []).append(match)
    findings = []
    for stack_id, matches in by_stack.items():
        first = matches[0]
        cves = [cve for m in matches for cve in m.advisory.cves]
        severity = min((m.advisory.severity for m in matches), key=SEVERITY_ORDER.index)
        findings.append(
            make_finding(
                device,
                CheckId.VULNERABLE_STACK,
                severity,
                Category.VULNERABLE_STACK,
                subject=stack_id,
                placeholders={
                    "stack": first.stack.name,
                    "version": str(first.version),
                    "cves": ", ".join(cves),
                },
                details={
                    "stack": stack_id,
                    "version": str(first.version),
                    "evidence": first.evidence,
                    "cves": cves,
                    "sources": sorted({m.advisory.source for m in matches}),
                    "summaries": [m.advisory.summary for m in matches],
                },
                possible=True,
            )
        )
    return findings


def _services(described: UpnpDevice, types: tuple[str, ...]) -> list[UpnpService]:
    return [service for service in described.all_services if service.service_type in types]


def check_unauthenticated_actions(device: InventoryDevice, described: UpnpDevice) -> list[Finding]:
    """UG-CTRL-002 and UG-CTRL-003: state-changing actions any host on the LAN may call."""
    if _services(described, (DEVICE_PROTECTION,)):
        return []
    findings = []
    lan_host = sorted(
        {
            action
            for service in _services(described, (LAN_HOST_CONFIG_SERVICE_TYPE,))
            for action in service.actions
            if action.startswith(_STATE_CHANGING_PREFIXES)
        }
    )
    if lan_host:
        shown = [lan_text.clean(action, 64) for action in lan_host[:16]]
        findings.append(
            make_finding(
                device,
                CheckId.LAN_HOST_CONFIG_SET,
                Severity.HIGH,
                Category.UNAUTHENTICATED_CONTROL,
                placeholders={"actions": ", ".join(shown)},
                details={"actions": shown},
            )
        )
    refuses = any(marker.lower() in device.server.lower() for marker in _REFUSES_FORCE_TERMINATION)
    if not refuses and any(
        service.has_action("ForceTermination")
        for service in _services(described, CONNECTION_SERVICE_TYPES)
    ):
        findings.append(
            make_finding(
                device,
                CheckId.WAN_FORCE_TERMINATION,
                Severity.MEDIUM,
                Category.UNAUTHENTICATED_CONTROL,
                details={"actions": ["ForceTermination"]},
            )
        )
    return findings


@dataclass(frozen=True, slots=True)
class AgentReading:
    """What our agent's open GetInfo said (values cleaned and bounded)."""

    mode: str | None
    version: Version | None  # None: no firmware version, or not one
    auth_failures: int  # refused as unauthenticated since its boot (0: not reported)
    boot_id: int = 0  # its BootId (0: not reported)


async def async_agent_info(described: UpnpDevice) -> AgentReading | None:
    """Our agent's security mode, firmware version and authentication failures, read
    with its open GetInfo action (None: not an agent, or it did not answer)."""
    info = (
        described.find_service(AGENT_INFO) if described.device_type == AGENT_DEVICE_TYPE else None
    )
    if info is None or not info.has_action("GetInfo"):
        return None
    with contextlib.suppress(UpnpError, ClientError, OSError, TimeoutError):
        result = await info.action("GetInfo").async_call()
        failures = result.get("AuthFailures")
        boot_id = result.get("BootId")
        return AgentReading(
            mode=lan_text.clean(result.get("SecurityMode"), 16),
            version=parse_version(lan_text.clean(result.get("FirmwareVersion"), 32)),
            auth_failures=failures if isinstance(failures, int) and failures > 0 else 0,
            boot_id=boot_id if isinstance(boot_id, int) and boot_id > 0 else 0,
        )
    return None


def check_agent(device: InventoryDevice, reading: AgentReading | None) -> list[Finding]:
    """UG-AGENT-001: one of our agents obeys anyone (open mode); UG-AGENT-002: it runs
    firmware older than the release this integration knows; UG-AGENT-003: it refused
    requests as unauthenticated since it booted (someone tried to control it)."""
    if reading is None:
        return []
    findings = []
    if reading.mode == SECURITY_MODE_OPEN:
        findings.append(
            make_finding(
                device,
                CheckId.AGENT_OPEN_MODE,
                Severity.HIGH,
                Category.AGENT,
                details={"mode": reading.mode},
            )
        )
    if reading.version is not None and reading.version < Version.parse(AGENT_FIRMWARE_LATEST):
        findings.append(
            make_finding(
                device,
                CheckId.AGENT_OUTDATED,
                Severity.MEDIUM,
                Category.AGENT,
                placeholders={"version": str(reading.version), "latest": AGENT_FIRMWARE_LATEST},
                details={"version": str(reading.version), "latest": AGENT_FIRMWARE_LATEST},
            )
        )
    if reading.auth_failures:
        findings.append(
            make_finding(
                device,
                CheckId.AGENT_AUTH_FAILURES,
                Severity.MEDIUM,
                Category.AGENT,
                placeholders={"count": str(reading.auth_failures)},
                details={"auth_failures": reading.auth_failures},
            )
        )
    return findings
