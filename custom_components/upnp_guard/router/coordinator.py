"""Poll the router, audit its port mappings against the policy and keep ours alive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import ClientError
from async_upnp_client.exceptions import UpnpCommunicationError, UpnpError
from homeassistant.const import ATTR_FRIENDLY_NAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..const import CONF_LOCATION, DOMAIN
from ..lan_text import clean, get_logger, markdown
from ..transport import TRANSPORT_ERRORS
from .const import (
    EVENT_PORT_MAPPING,
    MAX_EVENTS_PER_REFRESH,
    MAX_POLICY_ISSUES,
    RENEW_FRACTION,
    STORAGE_VERSION,
    UPDATE_INTERVAL,
    UPTIME_SLACK,
)
from .igd import IgdClient
from .models import (
    MappingKey,
    MappingReport,
    Origin,
    OwnedMapping,
    PortMapping,
    PortMappingTable,
    RemovalResult,
    RiskFlag,
    RouterState,
    key_id,
)
from .policy import Policy, risk_flags

if TYPE_CHECKING:
    from .data import RouterConfigEntry

_LOGGER = get_logger(__name__)

HOME_ASSISTANT_OWNER = "Home Assistant"
# Flags that make a policy violation an error rather than a warning.
SEVERE_FLAGS = frozenset(
    {RiskFlag.DANGEROUS_SERVICE, RiskFlag.MALICIOUS_DESCRIPTION, RiskFlag.MALFORMED_ENTRY}
)

ISSUE_POLICY = "port_mapping_policy"
ISSUE_POLICY_SUMMARY = "port_mapping_policy_summary"
ISSUE_MANUAL_REMOVAL = "router_manual_removal"
ISSUE_DNS_CHANGED = "router_dns_changed"
ISSUE_TABLE_UNREADABLE = "router_table_unreadable"
ISSUE_OWNED_MISSING = "router_owned_missing"

EVENT_SUPPRESSED = "events_suppressed"


class TableUnreadable(Exception):
    """The router answered, but its port-mapping table could not be read."""


def policy_issue_id(entry_id: str, key: MappingKey) -> str:
    return f"port_mapping_{entry_id}_{key_id(key)}"


def manual_issue_id(entry_id: str, key: MappingKey) -> str:
    return f"router_manual_removal_{entry_id}_{key_id(key)}"


def dns_issue_id(entry_id: str) -> str:
    return f"router_dns_changed_{entry_id}"


def summary_issue_id(entry_id: str) -> str:
    return f"port_mapping_policy_summary_{entry_id}"


def table_issue_id(entry_id: str) -> str:
    return f"router_table_unreadable_{entry_id}"


def owned_missing_issue_id(entry_id: str, key: MappingKey) -> str:
    return f"router_owned_missing_{entry_id}_{key_id(key)}"


def router_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a router entry keeps owned mappings, first-seen times and the DNS baseline."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.router.{entry_id}")


class RouterCoordinator(DataUpdateCoordinator[RouterState]):
    """One router: its table, its WAN, its DNS, and the mappings we own on it."""

    config_entry: RouterConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: RouterConfigEntry, client: IgdClient, ha_ip: str
    ) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=UPDATE_INTERVAL,
        )
        self.client = client
        self.ha_ip = ha_ip
        self._store = router_store(hass, entry.entry_id)
        self.owned: dict[MappingKey, OwnedMapping] = {}
        self._first_seen: dict[str, str] = {}
        self.dns_baseline: str | None = None
        # The table changes only under this lock: indices of GetGenericPortMappingEntry
        # shift after every delete, so listing and mutating never interleave.
        self.table_lock = asyncio.Lock()
        self._renewals: dict[MappingKey, CALLBACK_TYPE] = {}
        self._previous_counters: tuple[datetime, int | None, int | None] | None = None
        # Violations already announced by an event (with or without their own issue).
        self._announced: set[str] = set()
        self._events_left = MAX_EVENTS_PER_REFRESH
        self._events_suppressed = 0
        # When each owned mapping was last seen on (or added to) the router, and the
        # owned mappings that vanished and wait for the user (re-add or forget).
        self._confirmed: dict[MappingKey, datetime] = {}
        self.missing: set[MappingKey] = set()

    # -- persistence --------------------------------------------------------------------
    async def _async_setup(self) -> None:
        stored = await self._store.async_load() or {}
        for item in stored.get("owned", []):
            owned = OwnedMapping.from_dict(item)
            self.owned[owned.key] = owned
        self._first_seen = dict(stored.get("first_seen", {}))
        self.dns_baseline = stored.get("dns_baseline")

    @callback
    def _data_to_store(self) -> dict[str, Any]:
        return {
            "owned": [owned.as_dict() for owned in self.owned.values()],
            "first_seen": self._first_seen,
            "dns_baseline": self.dns_baseline,
        }

    def _save(self) -> None:
        self._store.async_delay_save(self._data_to_store, 1)

    @property
    def policy(self) -> Policy:
        return Policy.from_options(self.config_entry.options)

    # -- owners -------------------------------------------------------------------------
    def owner_of(self, address: str) -> str | None:
        """Who Home Assistant knows behind an internal client address, if anyone."""
        if address == self.ha_ip:
            return HOME_ASSISTANT_OWNER
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if urlsplit(str(entry.data.get(CONF_LOCATION, ""))).hostname == address:
                return entry.title
        for state in self.hass.states.async_all("device_tracker"):
            if state.attributes.get("ip") == address:
                return str(
                    state.attributes.get("host_name")
                    or state.attributes.get(ATTR_FRIENDLY_NAME)
                    or state.entity_id
                )
        return None

    def _report(self, mapping: PortMapping, policy: Policy, now: str) -> MappingReport:
        owner = self.owner_of(mapping.internal_client)
        owned = self.owned.get(mapping.key)
        is_owned = owned is not None and owned.internal_client == mapping.internal_client
        first_seen = self._first_seen.setdefault(key_id(mapping.key), now)
        return MappingReport(
            mapping=mapping,
            owner=owner,
            origin=Origin.UPNP_GUARD if is_owned else mapping.origin,
            flags=risk_flags(mapping, client_known=owner is not None),
            allowed=is_owned or policy.allows(mapping),
            first_seen=first_seen,
            owned=is_owned,
        )

    # -- the poll -----------------------------------------------------------------------
    async def _async_update_data(self) -> RouterState:
        self._events_left, self._events_suppressed = MAX_EVENTS_PER_REFRESH, 0
        try:
            async with self.table_lock:
                state = RouterState(wan=await self.client.async_wan_status())
                table = await self._async_table()
                if await self._async_restore_owned(table, state.wan.uptime):
                    table = await self._async_table()
                state.reports = self._audit(table)
                if await self._async_enforce(state):
                    # Indices shifted and rows went: list again rather than patch.
                    table = await self._async_table()
                    state.reports = self._audit(table)
            state.dns_servers = await self.client.async_dns_servers()
        except TableUnreadable as err:
            self._sync_table_issue(None, err.__cause__)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="router_table_unreadable",
                translation_placeholders={"error": clean(err.__cause__)},
            ) from err
        except TRANSPORT_ERRORS as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="router_unreachable",
                translation_placeholders={"error": clean(err)},
            ) from err
        finally:
            self._fire_suppressed()
        self._sync_table_issue(table.unreadable, None)
        self._rates(state)
        self._watch_dns(state.dns_servers)
        self._save()
        return state

    async def _async_table(self) -> PortMappingTable:
        """The table; a router that answers but whose table cannot be read is TableUnreadable.

        Unreachable (no answer, HTTP errors, timeouts) stays what it is: that is not the
        table's fault and raises no issue beyond the entry being unavailable.
        """
        try:
            return await self.client.async_list_port_mappings()
        except UpnpCommunicationError, ClientError, TimeoutError:
            raise
        except (UpnpError, ValueError, TypeError, KeyError) as err:
            raise TableUnreadable from err

    def _sync_table_issue(self, unreadable: int | None, error: BaseException | None) -> None:
        """An ERROR issue while rows (None: the whole table) cannot be read, else none."""
        issue_id = table_issue_id(self.config_entry.entry_id)
        if unreadable == 0:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        _LOGGER.warning(
            "Port-mapping table of %s: %s unreadable (%s)",
            self.config_entry.title,
            "all rows" if unreadable is None else f"{unreadable} rows",
            error,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_TABLE_UNREADABLE,
            translation_placeholders={
                "router": markdown(self.config_entry.title),
                "rows": "all" if unreadable is None else str(unreadable),
                "error": markdown(error if error is not None else "-"),
            },
        )

    def _audit(self, mappings: list[PortMapping]) -> list[MappingReport]:
        now = dt_util.utcnow().isoformat()
        policy = self.policy
        reports = [self._report(mapping, policy, now) for mapping in mappings]
        present = {key_id(report.mapping.key) for report in reports}
        for gone in set(self._first_seen) - present:
            del self._first_seen[gone]
        self._sync_policy_issues(reports)
        return reports

    def _sync_policy_issues(self, reports: list[MappingReport]) -> None:
        """One issue per violation up to MAX_POLICY_ISSUES, one summary issue past it.

        Each violation is announced by one event, issue or not (the event budget of a
        refresh permitting); the worst (severe flags first) get the individual issues.
        """
        entry_id = self.config_entry.entry_id
        registry = ir.async_get(self.hass)
        wanted = {policy_issue_id(entry_id, r.mapping.key): r for r in reports if not r.allowed}
        prefix = f"port_mapping_{entry_id}_"
        for (domain, issue_id), _issue in list(registry.issues.items()):
            if domain == DOMAIN and issue_id.startswith(prefix) and issue_id not in wanted:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self._announced &= set(wanted)
        raised = {i for i in wanted if registry.async_get_issue(DOMAIN, i) is not None}
        waiting = sorted(
            (i for i in wanted if i not in raised),
            key=lambda i: (
                not wanted[i].flags & SEVERE_FLAGS,
                wanted[i].mapping.external_port,
                i,
            ),
        )
        for issue_id in waiting:
            report = wanted[issue_id]
            if len(raised) < MAX_POLICY_ISSUES:
                self._raise_policy_issue(issue_id, report)
                raised.add(issue_id)
            if issue_id not in self._announced:
                self._announced.add(issue_id)
                self._fire("policy_violation", report)
        self._sync_summary_issue([wanted[i] for i in wanted if i not in raised])

    def _sync_summary_issue(self, rest: list[MappingReport]) -> None:
        issue_id = summary_issue_id(self.config_entry.entry_id)
        if not rest:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=(
                ir.IssueSeverity.ERROR
                if any(r.flags & SEVERE_FLAGS for r in rest)
                else ir.IssueSeverity.WARNING
            ),
            translation_key=ISSUE_POLICY_SUMMARY,
            translation_placeholders={
                "router": markdown(self.config_entry.title),
                "count": str(len(rest)),
                "limit": str(MAX_POLICY_ISSUES),
            },
        )

    def _raise_policy_issue(self, issue_id: str, report: MappingReport) -> None:
        """A mapping breaks the policy: its repair issue, every LAN string made inert."""
        mapping = report.mapping
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=True,
            is_persistent=False,
            severity=(
                ir.IssueSeverity.ERROR if report.flags & SEVERE_FLAGS else ir.IssueSeverity.WARNING
            ),
            translation_key=ISSUE_POLICY,
            translation_placeholders={
                "router": markdown(self.config_entry.title),
                "protocol": markdown(mapping.protocol),
                "external_port": str(mapping.external_port),
                "internal_client": markdown(mapping.internal_client),
                "internal_port": str(mapping.internal_port),
                "description": markdown(mapping.description),
                "owner": markdown(report.owner or "unknown"),
                "flags": ", ".join(sorted(report.flags)) or "none",
            },
            data={"entry_id": self.config_entry.entry_id, "mapping": key_id(mapping.key)},
        )

    def _fire(self, event_type: str, report: MappingReport) -> None:
        """An event, within the refresh's budget (MAX_EVENTS_PER_REFRESH)."""
        if self._events_left <= 0:
            self._events_suppressed += 1
            return
        self._events_left -= 1
        self.hass.bus.async_fire(
            EVENT_PORT_MAPPING,
            {"config_entry_id": self.config_entry.entry_id, "type": event_type} | report.as_dict(),
        )

    def _fire_suppressed(self) -> None:
        """One event for all those a refresh held back, then a fresh budget."""
        if self._events_suppressed:
            self.hass.bus.async_fire(
                EVENT_PORT_MAPPING,
                {
                    "config_entry_id": self.config_entry.entry_id,
                    "type": EVENT_SUPPRESSED,
                    "count": self._events_suppressed,
                },
            )
        self._events_left, self._events_suppressed = MAX_EVENTS_PER_REFRESH, 0

    async def _async_enforce(self, state: RouterState) -> bool:
        """Enforce mode: remove violations older than the grace period. True if any went."""
        policy = self.policy
        if not policy.enforce:
            return False
        deadline = dt_util.utcnow() - timedelta(seconds=policy.grace_period)
        removed = False
        for report in state.violations:
            first_seen = dt_util.parse_datetime(report.first_seen)
            if first_seen is None or first_seen > deadline:
                continue
            if await self._async_remove_reported(report):
                removed = True
        return removed

    async def _async_remove_reported(self, report: MappingReport) -> bool:
        mapping = report.mapping
        result = await self.client.async_remove_port_mapping(*mapping.key)
        if result is RemovalResult.MANUAL:
            self._raise_manual_removal(mapping)
            self._fire("removal_refused", report)
            return False
        ir.async_delete_issue(
            self.hass, DOMAIN, policy_issue_id(self.config_entry.entry_id, mapping.key)
        )
        self._fire("removed", report)
        return True

    def _raise_manual_removal(self, mapping: PortMapping) -> None:
        location = str(self.config_entry.data.get(CONF_LOCATION, ""))
        host = urlsplit(location).hostname or location
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            manual_issue_id(self.config_entry.entry_id, mapping.key),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_MANUAL_REMOVAL,
            translation_placeholders={
                "router": markdown(self.config_entry.title),
                "router_host": markdown(host),
                "protocol": markdown(mapping.protocol),
                "external_port": str(mapping.external_port),
                "internal_client": markdown(mapping.internal_client),
            },
        )

    # -- rates and DNS ------------------------------------------------------------------
    def _rates(self, state: RouterState) -> None:
        now = dt_util.utcnow()
        received, sent = state.wan.bytes_received, state.wan.bytes_sent
        if self._previous_counters is not None:
            then, prev_received, prev_sent = self._previous_counters
            seconds = (now - then).total_seconds()
            if seconds > 0:
                # Counters wrap (32-bit in IGD:1) or reset on reboot: no rate then.
                if received is not None and prev_received is not None:
                    delta = received - prev_received
                    state.download_rate = delta / seconds if delta >= 0 else None
                if sent is not None and prev_sent is not None:
                    delta = sent - prev_sent
                    state.upload_rate = delta / seconds if delta >= 0 else None
        self._previous_counters = (now, received, sent)

    def _watch_dns(self, servers: str | None) -> None:
        """The first answer is the baseline; any later difference is a repair issue."""
        if servers is None:
            return
        if self.dns_baseline is None:
            self.dns_baseline = servers
            return
        issue_id = dns_issue_id(self.config_entry.entry_id)
        if servers == self.dns_baseline:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_DNS_CHANGED,
            translation_placeholders={
                "router": markdown(self.config_entry.title),
                "baseline": markdown(self.dns_baseline),
                "servers": markdown(servers),
            },
            data={"entry_id": self.config_entry.entry_id, "servers": servers},
        )

    @callback
    def accept_dns(self, servers: str) -> None:
        """The user confirmed the new DNS servers: they become the baseline."""
        self.dns_baseline = servers
        ir.async_delete_issue(self.hass, DOMAIN, dns_issue_id(self.config_entry.entry_id))
        self._save()

    # -- owned mappings -----------------------------------------------------------------
    async def async_add_owned(self, owned: OwnedMapping) -> PortMapping | None:
        """Add (or renew) a mapping we own and schedule its renewal."""
        async with self.table_lock:
            await self._async_add(owned)
            granted = await self.client.async_get_port_mapping(*owned.key)
        self.owned[owned.key] = owned
        self._confirmed[owned.key] = dt_util.utcnow()
        self._resolve_missing(owned.key)
        self._save()
        self._schedule_renewal(owned, granted)
        return granted

    async def _async_add(self, owned: OwnedMapping) -> None:
        await self.client.async_add_port_mapping(
            remote_host=owned.remote_host,
            external_port=owned.external_port,
            protocol=owned.protocol,
            internal_client=owned.internal_client,
            internal_port=owned.internal_port,
            description=owned.description,
            lease_duration=owned.lease_duration,
        )

    def _schedule_renewal(self, owned: OwnedMapping, granted: PortMapping | None) -> None:
        # The router may grant less than asked (IGD:2 caps at a week): renew on what it
        # granted, never later than on what we asked for.
        lease = owned.lease_duration
        if granted is not None and 0 < granted.lease_duration < lease:
            lease = granted.lease_duration
        self._cancel_renewal(owned.key)
        self._renewals[owned.key] = async_call_later(
            self.hass, lease * RENEW_FRACTION, self._renewal_callback(owned.key)
        )

    def _renewal_callback(self, key: MappingKey) -> Callable[[datetime], None]:
        @callback
        def _renew(_now: datetime) -> None:
            self._renewals.pop(key, None)
            owned = self.owned.get(key)
            if owned is not None:
                self.config_entry.async_create_background_task(
                    self.hass, self._async_renew(owned), f"upnp_guard renew {key_id(key)}"
                )

        return _renew

    async def _async_renew(self, owned: OwnedMapping) -> None:
        try:
            async with self.table_lock:
                current = await self.client.async_get_port_mapping(*owned.key)
            if current is None or current.internal_client != owned.internal_client:
                # Gone (or taken) since the last poll: renewing would re-add it unasked.
                # The poll decides: re-add after a router restart, else ask the user.
                await self.async_request_refresh()
                return
            await self.async_add_owned(owned)
        except TRANSPORT_ERRORS as err:
            _LOGGER.warning("Renewing port mapping %s failed: %s", key_id(owned.key), err)
            # Try again soon; the poll also re-adds it if the router dropped it.
            self._schedule_renewal(owned, None)

    def _cancel_renewal(self, key: MappingKey) -> None:
        if (cancel := self._renewals.pop(key, None)) is not None:
            cancel()

    async def _async_restore_owned(self, mappings: list[PortMapping], uptime: int | None) -> bool:
        """Re-add owned mappings a router restart lost; ask about any other that vanished.

        A mapping that went while the router kept running was removed by someone (the
        user, in the router's own interface): re-adding it silently would undo that, so a
        repair issue asks to re-add or forget it.
        """
        present = {m.key: m for m in mappings}
        now = dt_util.utcnow()
        restored = False
        for key, owned in list(self.owned.items()):
            current = present.get(key)
            if current is not None and current.internal_client == owned.internal_client:
                self._confirmed[key] = now
                self._resolve_missing(key)
                if key not in self._renewals:
                    self._schedule_renewal(owned, current)
                continue
            if current is not None:
                # Someone else holds the port now; do not fight over it.
                _LOGGER.warning("Port %s is now mapped to another host", key_id(key))
                continue
            if key in self.missing:
                continue  # the user has not answered yet
            if not self._lost_by_restart(key, uptime, now):
                self._ask_missing(owned)
                continue
            _LOGGER.info("Router restarted; re-adding owned port mapping %s", key_id(key))
            try:
                await self._async_add(owned)
            except UpnpError as err:
                _LOGGER.warning("Re-adding port mapping %s failed: %s", key_id(key), err)
                continue
            self._confirmed[key] = now
            self._schedule_renewal(owned, None)
            restored = True
        return restored

    def _lost_by_restart(self, key: MappingKey, uptime: int | None, now: datetime) -> bool:
        """Whether the router restarted since the mapping was last seen (so it lost it)."""
        confirmed = self._confirmed.get(key)
        if confirmed is None or uptime is None:
            return False  # cannot tell: ask rather than guess
        return uptime + UPTIME_SLACK < (now - confirmed).total_seconds()

    def _ask_missing(self, owned: OwnedMapping) -> None:
        _LOGGER.warning("Owned port mapping %s vanished from the router", key_id(owned.key))
        self.missing.add(owned.key)
        self._cancel_renewal(owned.key)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            owned_missing_issue_id(self.config_entry.entry_id, owned.key),
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_OWNED_MISSING,
            translation_placeholders={
                "router": markdown(self.config_entry.title),
                "protocol": markdown(owned.protocol),
                "external_port": str(owned.external_port),
                "internal_client": markdown(owned.internal_client),
                "internal_port": str(owned.internal_port),
                "description": markdown(owned.description),
            },
            data={"entry_id": self.config_entry.entry_id, "mapping": key_id(owned.key)},
        )

    def _resolve_missing(self, key: MappingKey) -> None:
        if key in self.missing:
            self.missing.discard(key)
            ir.async_delete_issue(
                self.hass, DOMAIN, owned_missing_issue_id(self.config_entry.entry_id, key)
            )

    async def async_readd_owned(self, key: MappingKey) -> PortMapping | None:
        """The user asked to re-add a vanished owned mapping."""
        owned = self.owned[key]
        self._resolve_missing(key)
        granted = await self.async_add_owned(owned)
        await self.async_request_refresh()
        return granted

    async def async_forget_owned(self, key: MappingKey) -> None:
        self._cancel_renewal(key)
        self._resolve_missing(key)
        self._confirmed.pop(key, None)
        if self.owned.pop(key, None) is not None:
            self._save()

    # -- removal by the user ------------------------------------------------------------
    async def async_remove(self, key: MappingKey) -> RemovalResult:
        """Remove a mapping through the ladder; raise a repair issue if it ends with the user."""
        await self.async_forget_owned(key)
        async with self.table_lock:
            current = await self.client.async_get_port_mapping(*key)
            result = await self.client.async_remove_port_mapping(*key)
        if result is RemovalResult.MANUAL and current is not None:
            self._raise_manual_removal(current)
        elif result is not RemovalResult.MANUAL:
            ir.async_delete_issue(
                self.hass, DOMAIN, policy_issue_id(self.config_entry.entry_id, key)
            )
        await self.async_refresh()
        return result

    async def async_shutdown(self) -> None:
        for key in list(self._renewals):
            self._cancel_renewal(key)
        await super().async_shutdown()
        await self._store.async_save(self._data_to_store())
