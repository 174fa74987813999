"""The repair issues of a router entry: their ids, and raising and clearing them.

One place builds every id (repairs.py routes a fix flow by the same prefixes), and every
string from the LAN reaches an issue only through `markdown` (inert text).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import CONF_LOCATION, DOMAIN
from ..lan_text import markdown
from .const import MAX_POLICY_ISSUES
from .models import MappingKey, MappingReport, OwnedMapping, PortMapping, RiskFlag, key_id

if TYPE_CHECKING:
    from .data import RouterConfigEntry

# Flags that make a policy violation an error rather than a warning.
SEVERE_FLAGS = frozenset(
    {RiskFlag.DANGEROUS_SERVICE, RiskFlag.MALICIOUS_DESCRIPTION, RiskFlag.MALFORMED_ENTRY}
)


class RouterIssue(StrEnum):
    """The translation key of each router issue (strings.json "issues")."""

    POLICY = "port_mapping_policy"
    POLICY_SUMMARY = "port_mapping_policy_summary"
    MANUAL_REMOVAL = "router_manual_removal"
    DNS_CHANGED = "router_dns_changed"
    TABLE_UNREADABLE = "router_table_unreadable"
    OWNED_MISSING = "router_owned_missing"


# What an issue id starts with, per issue. A policy issue's id is "port_mapping_<entry>_
# <mapping>" (not its translation key): ids persist in the issue registry, so they stay.
_ID_PREFIX: dict[RouterIssue, str] = {
    RouterIssue.POLICY: "port_mapping",
    RouterIssue.POLICY_SUMMARY: RouterIssue.POLICY_SUMMARY.value,
    RouterIssue.MANUAL_REMOVAL: RouterIssue.MANUAL_REMOVAL.value,
    RouterIssue.DNS_CHANGED: RouterIssue.DNS_CHANGED.value,
    RouterIssue.TABLE_UNREADABLE: RouterIssue.TABLE_UNREADABLE.value,
    RouterIssue.OWNED_MISSING: RouterIssue.OWNED_MISSING.value,
}
# The issues with a fix flow (repairs.py routes an id to it with issue_of).
FIXABLE = frozenset({RouterIssue.DNS_CHANGED, RouterIssue.OWNED_MISSING, RouterIssue.POLICY})


def issue_id(issue: RouterIssue, entry_id: str, key: MappingKey | None = None) -> str:
    """The id of one issue of one entry (and one mapping, for per-mapping issues)."""
    base = f"{_ID_PREFIX[issue]}_{entry_id}"
    return base if key is None else f"{base}_{key_id(key)}"


def issue_of(id_: str) -> RouterIssue | None:
    """Which issue an id belongs to: the longest prefix wins ("port_mapping_" is also
    the start of a summary issue's id)."""
    matches = [issue for issue, prefix in _ID_PREFIX.items() if id_.startswith(f"{prefix}_")]
    return max(matches, key=lambda issue: len(_ID_PREFIX[issue]), default=None)


def policy_issue_id(entry_id: str, key: MappingKey) -> str:
    return issue_id(RouterIssue.POLICY, entry_id, key)


def manual_issue_id(entry_id: str, key: MappingKey) -> str:
    return issue_id(RouterIssue.MANUAL_REMOVAL, entry_id, key)


def dns_issue_id(entry_id: str) -> str:
    return issue_id(RouterIssue.DNS_CHANGED, entry_id)


def summary_issue_id(entry_id: str) -> str:
    return issue_id(RouterIssue.POLICY_SUMMARY, entry_id)


def table_issue_id(entry_id: str) -> str:
    return issue_id(RouterIssue.TABLE_UNREADABLE, entry_id)


def owned_missing_issue_id(entry_id: str, key: MappingKey) -> str:
    return issue_id(RouterIssue.OWNED_MISSING, entry_id, key)


def _severity(flags: frozenset[RiskFlag]) -> ir.IssueSeverity:
    return ir.IssueSeverity.ERROR if flags & SEVERE_FLAGS else ir.IssueSeverity.WARNING


class RouterIssues:
    """Raise and clear the issues of one router entry."""

    def __init__(self, hass: HomeAssistant, entry: RouterConfigEntry) -> None:
        self.hass = hass
        self.entry = entry

    def _create(
        self,
        issue: RouterIssue,
        id_: str,
        placeholders: dict[str, str],
        *,
        severity: ir.IssueSeverity,
        data: dict[str, str | int | float | None] | None = None,
    ) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            id_,
            is_fixable=issue in FIXABLE,
            is_persistent=False,
            severity=severity,
            translation_key=issue,
            translation_placeholders={"router": markdown(self.entry.title), **placeholders},
            data=data,
        )

    def delete(self, issue: RouterIssue, key: MappingKey | None = None) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, issue_id(issue, self.entry.entry_id, key))

    # -- the table ------------------------------------------------------------------------
    def sync_table(self, unreadable: int | None, error: BaseException | None) -> None:
        """An ERROR issue while rows (None: the whole table) cannot be read, else none."""
        if unreadable == 0:
            self.delete(RouterIssue.TABLE_UNREADABLE)
            return
        self._create(
            RouterIssue.TABLE_UNREADABLE,
            table_issue_id(self.entry.entry_id),
            {
                "rows": "all" if unreadable is None else str(unreadable),
                "error": markdown(error if error is not None else "-"),
            },
            severity=ir.IssueSeverity.ERROR,
        )

    # -- the policy -----------------------------------------------------------------------
    def sync_policy(
        self, reports: list[MappingReport], announce: Callable[[str, MappingReport], None]
    ) -> set[str]:
        """One issue per violation up to MAX_POLICY_ISSUES, one summary issue past it.

        The worst violations (severe flags first) get the individual issues. `announce`
        is called for each violation that had no issue before, in that order; returns
        the ids of all current violations.
        """
        entry_id = self.entry.entry_id
        registry = ir.async_get(self.hass)
        wanted = {policy_issue_id(entry_id, r.mapping.key): r for r in reports if not r.allowed}
        prefix = issue_id(RouterIssue.POLICY, entry_id) + "_"
        for (domain, id_), _issue in list(registry.issues.items()):
            if domain == DOMAIN and id_.startswith(prefix) and id_ not in wanted:
                ir.async_delete_issue(self.hass, DOMAIN, id_)
        raised = {i for i in wanted if registry.async_get_issue(DOMAIN, i) is not None}
        waiting = sorted(
            (i for i in wanted if i not in raised),
            key=lambda i: (
                not wanted[i].flags & SEVERE_FLAGS,
                wanted[i].mapping.external_port,
                i,
            ),
        )
        for id_ in waiting:
            report = wanted[id_]
            if len(raised) < MAX_POLICY_ISSUES:
                self._raise_policy(id_, report)
                raised.add(id_)
            announce(id_, report)
        self._sync_summary([wanted[i] for i in wanted if i not in raised])
        return set(wanted)

    def _sync_summary(self, rest: list[MappingReport]) -> None:
        if not rest:
            self.delete(RouterIssue.POLICY_SUMMARY)
            return
        self._create(
            RouterIssue.POLICY_SUMMARY,
            summary_issue_id(self.entry.entry_id),
            {"count": str(len(rest)), "limit": str(MAX_POLICY_ISSUES)},
            severity=(
                ir.IssueSeverity.ERROR
                if any(r.flags & SEVERE_FLAGS for r in rest)
                else ir.IssueSeverity.WARNING
            ),
        )

    def _raise_policy(self, id_: str, report: MappingReport) -> None:
        """A mapping breaks the policy: its repair issue, every LAN string made inert."""
        mapping = report.mapping
        self._create(
            RouterIssue.POLICY,
            id_,
            {
                "protocol": markdown(mapping.protocol),
                "external_port": str(mapping.external_port),
                "internal_client": markdown(mapping.internal_client),
                "internal_port": str(mapping.internal_port),
                "description": markdown(mapping.description),
                "owner": markdown(report.owner or "unknown"),
                "flags": ", ".join(sorted(report.flags)) or "none",
            },
            severity=_severity(report.flags),
            data={"entry_id": self.entry.entry_id, "mapping": key_id(mapping.key)},
        )

    def raise_manual_removal(self, mapping: PortMapping) -> None:
        """The router refused every way of removing a mapping: the user must, there."""
        location = str(self.entry.data.get(CONF_LOCATION, ""))
        host = urlsplit(location).hostname or location
        self._create(
            RouterIssue.MANUAL_REMOVAL,
            manual_issue_id(self.entry.entry_id, mapping.key),
            {
                "router_host": markdown(host),
                "protocol": markdown(mapping.protocol),
                "external_port": str(mapping.external_port),
                "internal_client": markdown(mapping.internal_client),
            },
            severity=ir.IssueSeverity.WARNING,
        )

    # -- DNS and owned mappings -----------------------------------------------------------
    def raise_dns_changed(self, baseline: str, servers: str) -> None:
        self._create(
            RouterIssue.DNS_CHANGED,
            dns_issue_id(self.entry.entry_id),
            {"baseline": markdown(baseline), "servers": markdown(servers)},
            severity=ir.IssueSeverity.ERROR,
            data={"entry_id": self.entry.entry_id, "servers": servers},
        )

    def raise_owned_missing(self, owned: OwnedMapping) -> None:
        self._create(
            RouterIssue.OWNED_MISSING,
            owned_missing_issue_id(self.entry.entry_id, owned.key),
            {
                "protocol": markdown(owned.protocol),
                "external_port": str(owned.external_port),
                "internal_client": markdown(owned.internal_client),
                "internal_port": str(owned.internal_port),
                "description": markdown(owned.description),
            },
            severity=ir.IssueSeverity.WARNING,
            data={"entry_id": self.entry.entry_id, "mapping": key_id(owned.key)},
        )
