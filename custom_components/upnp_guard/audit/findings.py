"""A finding of the audit: which check, on which device, how bad, what to say."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .const import SEVERITY_WEIGHT, Category, CheckId, Severity

# Severity order, worst first (findings are reported in it).
SEVERITY_ORDER = tuple(Severity)


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result for one device (or the router).

    `placeholders` are cleaned text (lan_text.clean) for the translated explanation;
    the repair layer makes them markdown-safe. `details` go to the report and the event.
    """

    check_id: CheckId
    severity: Severity
    category: Category
    udn: str
    address: str
    device_name: str
    placeholders: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    # Anything that tells two findings of one check on one device apart (a stack, a port).
    subject: str = ""
    possible: bool = False  # only as certain as a string a vendor may edit

    @property
    def key(self) -> str:
        """A stable id made only of [a-z0-9_] (repair issue ids, event data): a hash of the
        device's UDN and the subject, which the device chooses."""
        digest = hashlib.sha256(f"{self.udn}\x00{self.subject}".encode()).hexdigest()[:16]
        return f"{self.check_id.lower().replace('-', '_')}_{digest}"

    def as_dict(self) -> dict[str, Any]:
        """The report's and the event's view."""
        return {
            "key": self.key,
            "check_id": self.check_id.value,
            "severity": self.severity.value,
            "category": self.category.value,
            "possible": self.possible,
            "udn": self.udn,
            "address": self.address,
            "device": self.device_name,
            "details": dict(self.details),
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Worst first, then by check and device."""
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER.index(f.severity), f.check_id, f.address, f.key),
    )


def score(findings: list[Finding]) -> int:
    """100 minus each finding's weight (SEVERITY_WEIGHT), never below 0."""
    return max(0, 100 - sum(SEVERITY_WEIGHT[f.severity] for f in findings))


def counts_by_category(findings: list[Finding]) -> dict[str, int]:
    """Findings per category (every category listed, also with 0)."""
    counts = {category.value: 0 for category in Category}
    for finding in findings:
        counts[finding.category.value] += 1
    return counts
