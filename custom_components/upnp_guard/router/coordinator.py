"""Poll the router and audit its port mappings against the policy.

One poll: the WAN status, the table (owned mappings a restart lost are re-added first,
leases.py), the audit of every row (owner, origin, risk flags, verdict), enforcement in
enforce mode, the events and issues of what changed (issues.py), the byte rates and the
DNS servers. Errors become UpdateFailed in errors.py.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import ClientError
from async_upnp_client.exceptions import UpnpCommunicationError, UpnpError
from homeassistant.const import ATTR_FRIENDLY_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import CONF_LOCATION, DOMAIN
from ..lan_text import get_logger
from ..transport import TRANSPORT_ERRORS
from .const import EVENT_PORT_MAPPING, MAX_EVENTS_PER_REFRESH, UPDATE_INTERVAL
from .errors import TableUnreadable, update_failed
from .igd import IgdClient
from .issues import RouterIssue, RouterIssues
from .leases import OwnedLeases, router_store
from .models import (
    MappingKey,
    MappingReport,
    Origin,
    OwnedMapping,
    PortMapping,
    PortMappingTable,
    RemovalResult,
    RouterState,
    WanStatus,
    key_id,
)
from .policy import Policy, risk_flags

if TYPE_CHECKING:
    from .data import RouterConfigEntry

_LOGGER = get_logger(__name__)

HOME_ASSISTANT_OWNER = "Home Assistant"
EVENT_SUPPRESSED = "events_suppressed"


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
        self._first_seen: dict[str, str] = {}
        self.dns_baseline: str | None = None
        # The table changes only under this lock: indices of GetGenericPortMappingEntry
        # shift after every delete, so listing and mutating never interleave.
        self.table_lock = asyncio.Lock()
        self.issues = RouterIssues(hass, entry)
        self.leases = OwnedLeases(
            hass,
            entry,
            client,
            self.table_lock,
            self.issues,
            save=self._save,
            request_refresh=self.async_request_refresh,
        )
        self._previous_counters: tuple[datetime, int | None, int | None] | None = None
        # Violations already announced by an event (with or without their own issue).
        self._announced: set[str] = set()
        self._events_left = MAX_EVENTS_PER_REFRESH
        self._events_suppressed = 0

    # -- persistence --------------------------------------------------------------------
    async def _async_setup(self) -> None:
        stored = await self._store.async_load() or {}
        self.leases.load(stored.get("owned", []))
        self._first_seen = dict(stored.get("first_seen", {}))
        self.dns_baseline = stored.get("dns_baseline")

    @callback
    def _data_to_store(self) -> dict[str, Any]:
        return {
            "owned": self.leases.as_stored(),
            "first_seen": self._first_seen,
            "dns_baseline": self.dns_baseline,
        }

    def _save(self) -> None:
        self._store.async_delay_save(self._data_to_store, 1)

    @property
    def policy(self) -> Policy:
        return Policy.from_options(self.config_entry.options)

    @property
    def owned(self) -> dict[MappingKey, OwnedMapping]:
        """The owned mappings (leases.py), by key."""
        return self.leases.owned

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
        owned = self.leases.owned.get(mapping.key)
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
                if await self.leases.async_restore(table, state.wan.uptime):
                    table = await self._async_table()
                state.reports = self._audit(table)
                if await self._async_enforce(state):
                    # Indices shifted and rows went: list again rather than patch.
                    table = await self._async_table()
                    state.reports = self._audit(table)
            state.dns_servers = await self.client.async_dns_servers()
        except TableUnreadable as err:
            self._sync_table_issue(None, err.__cause__)
            raise update_failed(err) from err
        except TRANSPORT_ERRORS as err:
            raise update_failed(err) from err
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
        if unreadable != 0:
            _LOGGER.warning(
                "Port-mapping table of %s: %s unreadable (%s)",
                self.config_entry.title,
                "all rows" if unreadable is None else f"{unreadable} rows",
                error,
            )
        self.issues.sync_table(unreadable, error)

    def _audit(self, mappings: list[PortMapping]) -> list[MappingReport]:
        now = dt_util.utcnow().isoformat()
        policy = self.policy
        reports = [self._report(mapping, policy, now) for mapping in mappings]
        present = {key_id(report.mapping.key) for report in reports}
        for gone in set(self._first_seen) - present:
            del self._first_seen[gone]
        # Each violation is announced by one event, issue or not (the event budget of a
        # refresh permitting).
        violations = self.issues.sync_policy(reports, self._announce)
        self._announced &= violations
        return reports

    def _announce(self, issue_id: str, report: MappingReport) -> None:
        if issue_id not in self._announced:
            self._announced.add(issue_id)
            self._fire("policy_violation", report)

    # -- events -------------------------------------------------------------------------
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

    # -- enforcement and removal ----------------------------------------------------------
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
            self.issues.raise_manual_removal(mapping)
            self._fire("removal_refused", report)
            return False
        self.issues.delete(RouterIssue.POLICY, mapping.key)
        self._fire("removed", report)
        return True

    async def async_remove(self, key: MappingKey) -> RemovalResult:
        """Remove a mapping through the ladder; raise a repair issue if it ends with the user."""
        self.leases.forget(key)
        async with self.table_lock:
            current = await self.client.async_get_port_mapping(*key)
            result = await self.client.async_remove_port_mapping(*key)
        if result is RemovalResult.MANUAL and current is not None:
            self.issues.raise_manual_removal(current)
        elif result is not RemovalResult.MANUAL:
            self.issues.delete(RouterIssue.POLICY, key)
        await self.async_refresh()
        return result

    # -- rates and DNS ------------------------------------------------------------------
    def _rates(self, state: RouterState) -> None:
        now = dt_util.utcnow()
        if self._previous_counters is not None:
            state.download_rate, state.upload_rate = byte_rates(
                self._previous_counters, now, state.wan
            )
        self._previous_counters = (now, state.wan.bytes_received, state.wan.bytes_sent)

    def _watch_dns(self, servers: str | None) -> None:
        """The first answer is the baseline; any later difference is a repair issue."""
        if servers is None:
            return
        if self.dns_baseline is None:
            self.dns_baseline = servers
            return
        if servers == self.dns_baseline:
            self.issues.delete(RouterIssue.DNS_CHANGED)
            return
        self.issues.raise_dns_changed(self.dns_baseline, servers)

    @callback
    def accept_dns(self, servers: str) -> None:
        """The user confirmed the new DNS servers: they become the baseline."""
        self.dns_baseline = servers
        self.issues.delete(RouterIssue.DNS_CHANGED)
        self._save()

    async def async_shutdown(self) -> None:
        self.leases.cancel_all()
        await super().async_shutdown()
        await self._store.async_save(self._data_to_store())


def byte_rates(
    previous: tuple[datetime, int | None, int | None], now: datetime, wan: WanStatus
) -> tuple[float | None, float | None]:
    """Download and upload rates (bytes/s) between two readings of the WAN counters.

    None where a counter is missing, or went down: counters wrap (32-bit in IGD:1) or
    reset on reboot, and a rate across that would be a lie.
    """
    then, prev_received, prev_sent = previous
    seconds = (now - then).total_seconds()
    if seconds <= 0:
        return None, None

    def rate(current: int | None, before: int | None) -> float | None:
        if current is None or before is None or current < before:
            return None
        return (current - before) / seconds

    return rate(wan.bytes_received, prev_received), rate(wan.bytes_sent, prev_sent)
