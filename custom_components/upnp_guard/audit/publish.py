"""What users see of findings: one repair issue per device finding, one
`upnp_guard_audit_finding` event per new finding.

Router findings (UG-ROUTER-*) get no repair here: the router entry raises its own, with
the fix flows (router_findings.py). Issue ids and event data carry the finding's key (a
hash: the device chooses its UDN); every placeholder is made markdown-safe here.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from ..lan_text import markdown
from .const import AUDIT_ISSUE_PREFIX, EVENT_AUDIT_FINDING, CheckId, Severity
from .findings import Finding

_ISSUE_SEVERITY = {
    Severity.CRITICAL: ir.IssueSeverity.CRITICAL,
    Severity.HIGH: ir.IssueSeverity.ERROR,
    Severity.MEDIUM: ir.IssueSeverity.WARNING,
    Severity.LOW: ir.IssueSeverity.WARNING,
}


def issue_id(finding: Finding) -> str:
    """The repair issue of a finding."""
    return f"{AUDIT_ISSUE_PREFIX}{finding.key}"


def translation_key(finding: Finding) -> str:
    """strings.json issues key of a finding's check ("audit_ug_stack_001")."""
    return f"audit_{finding.check_id.lower().replace('-', '_')}"


# The router entry raises these itself, with their fix flows (router_findings.py).
_ROUTER_ENTRY_ISSUES = frozenset({CheckId.ROUTER_RISKY_MAPPING, CheckId.ROUTER_DNS_CHANGED})


def raises_issue(finding: Finding) -> bool:
    """Findings the router entry raises have its issues; info findings none."""
    return finding.check_id not in _ROUTER_ENTRY_ISSUES and finding.severity in _ISSUE_SEVERITY


class FindingPublisher:
    """Keeps repair issues and events in step with the latest findings."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.issues: set[str] = set()  # issue ids raised
        self.known: set[str] = set()  # finding keys seen in the previous run

    def publish(self, findings: list[Finding]) -> None:
        """Raise issues of new findings, delete those of findings gone, fire events."""
        current = {issue_id(f): f for f in findings if raises_issue(f)}
        for gone in self.issues - set(current):
            ir.async_delete_issue(self.hass, DOMAIN, gone)
        for identifier, finding in current.items():
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                identifier,
                is_fixable=True,
                is_persistent=False,
                severity=_ISSUE_SEVERITY[finding.severity],
                translation_key=translation_key(finding),
                translation_placeholders={
                    key: markdown(value) for key, value in finding.placeholders.items()
                },
                data={
                    "entry_id": self.entry_id,
                    "key": finding.key,
                    "udn": finding.udn,
                    "check_id": finding.check_id.value,
                },
            )
        self.issues = set(current)
        for finding in findings:
            if finding.key not in self.known:
                self.hass.bus.async_fire(
                    EVENT_AUDIT_FINDING, {**finding.as_dict(), "entry_id": self.entry_id}
                )
        self.known = {f.key for f in findings}

    def clear(self) -> None:
        """Delete every issue raised (the entry is unloaded)."""
        for identifier in self.issues:
            ir.async_delete_issue(self.hass, DOMAIN, identifier)
        self.issues = set()
