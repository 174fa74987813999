"""Router findings the router entries already know, reused by the audit (no request is
sent): risky port mappings (router/models.py RiskFlag) and DNS servers that changed from
the baseline. The router entry keeps its own repair issues with their fix flows (remove
or allow a mapping, accept the DNS servers); the audit counts them in its report, score
and events, and raises no second repair for them.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .. import lan_text
from ..const import DOMAIN, is_router_entry
from ..router.coordinator import RouterCoordinator
from ..router.models import key_id
from ..transport import url_host
from .const import Category, CheckId, Severity
from .findings import Finding

# A mapping flagged only for these is worth a look, not an alarm.
_LOW_RISK = frozenset({"permanent_lease", "unknown_client"})


def router_findings(hass: HomeAssistant) -> list[Finding]:
    """UG-ROUTER-001 per risky mapping and UG-ROUTER-002 per changed DNS, of every loaded
    router entry."""
    findings: list[Finding] = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        if not is_router_entry(entry.data) or entry.state is not ConfigEntryState.LOADED:
            continue
        coordinator: RouterCoordinator = entry.runtime_data.coordinator
        device = entry.runtime_data.device
        udn, name = device.udn, lan_text.clean(entry.title)
        address = url_host(device.device_url)
        state = coordinator.data  # set: a loaded entry had its first refresh
        for report in state.reports:
            if not report.flags or report.owned:
                continue
            flags = sorted(flag.value for flag in report.flags)
            mapping = report.mapping
            severity = Severity.LOW if set(flags) <= _LOW_RISK else Severity.HIGH
            findings.append(
                Finding(
                    check_id=CheckId.ROUTER_RISKY_MAPPING,
                    severity=severity,
                    category=Category.ROUTER,
                    udn=udn,
                    address=address,
                    device_name=name,
                    placeholders={"name": name, "address": address},
                    details={**report.as_dict(), "router_entry_id": entry.entry_id},
                    subject=key_id(mapping.key),
                )
            )
        baseline = coordinator.dns_baseline
        if baseline is not None and state.dns_servers is not None and state.dns_servers != baseline:
            findings.append(
                Finding(
                    check_id=CheckId.ROUTER_DNS_CHANGED,
                    severity=Severity.HIGH,
                    category=Category.ROUTER,
                    udn=udn,
                    address=address,
                    device_name=name,
                    placeholders={"name": name, "address": address},
                    details={
                        "baseline": lan_text.clean(baseline),
                        "current": lan_text.clean(state.dns_servers),
                        "router_entry_id": entry.entry_id,
                    },
                    subject="dns",
                )
            )
    return findings
