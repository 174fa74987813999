"""Poll the router, audit its port mappings against the policy and keep ours alive."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError
from async_upnp_client.exceptions import UpnpError
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_FRIENDLY_NAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..const import CONF_LOCATION, DOMAIN
from .const import EVENT_PORT_MAPPING, RENEW_FRACTION, STORAGE_VERSION, UPDATE_INTERVAL
from .igd import IgdClient
from .models import (
    MappingKey,
    MappingReport,
    Origin,
    OwnedMapping,
    PortMapping,
    RemovalResult,
    RiskFlag,
    RouterState,
    key_id,
)
from .policy import Policy, risk_flags

_LOGGER = logging.getLogger(__name__)

HOME_ASSISTANT_OWNER = "Home Assistant"
# Flags that make a policy violation an error rather than a warning.
SEVERE_FLAGS = frozenset({RiskFlag.DANGEROUS_SERVICE, RiskFlag.MALICIOUS_DESCRIPTION})

ISSUE_POLICY = "port_mapping_policy"
ISSUE_MANUAL_REMOVAL = "router_manual_removal"
ISSUE_DNS_CHANGED = "router_dns_changed"


def policy_issue_id(entry_id: str, key: MappingKey) -> str:
    return f"port_mapping_{entry_id}_{key_id(key)}"


def manual_issue_id(entry_id: str, key: MappingKey) -> str:
    return f"router_manual_removal_{entry_id}_{key_id(key)}"


def dns_issue_id(entry_id: str) -> str:
    return f"router_dns_changed_{entry_id}"


def router_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a router entry keeps owned mappings, first-seen times and the DNS baseline."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.router.{entry_id}")


class RouterCoordinator(DataUpdateCoordinator[RouterState]):
    """One router: its table, its WAN, its DNS, and the mappings we own on it."""

    config_entry: ConfigEntry[Any]

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], client: IgdClient, ha_ip: str
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
        try:
            async with self.table_lock:
                mappings = await self.client.async_list_port_mappings()
                if await self._async_restore_owned(mappings):
                    mappings = await self.client.async_list_port_mappings()
                state = RouterState(reports=self._audit(mappings))
                if await self._async_enforce(state):
                    # Indices shifted and rows went: list again rather than patch.
                    state.reports = self._audit(await self.client.async_list_port_mappings())
            state.wan = await self.client.async_wan_status()
            state.dns_servers = await self.client.async_dns_servers()
        except (UpnpError, ClientError, TimeoutError) as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="router_unreachable",
                translation_placeholders={"error": str(err)},
            ) from err
        self._rates(state)
        self._watch_dns(state.dns_servers)
        self._save()
        return state

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
        entry_id = self.config_entry.entry_id
        registry = ir.async_get(self.hass)
        wanted = {policy_issue_id(entry_id, r.mapping.key): r for r in reports if not r.allowed}
        prefix = f"port_mapping_{entry_id}_"
        for (domain, issue_id), _issue in list(registry.issues.items()):
            if domain == DOMAIN and issue_id.startswith(prefix) and issue_id not in wanted:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        for issue_id, report in wanted.items():
            if registry.async_get_issue(DOMAIN, issue_id) is None:
                self._alert(issue_id, report)

    def _alert(self, issue_id: str, report: MappingReport) -> None:
        """A new mapping breaks the policy: a repair issue and an event."""
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
                "router": self.config_entry.title,
                "protocol": mapping.protocol,
                "external_port": str(mapping.external_port),
                "internal_client": mapping.internal_client,
                "internal_port": str(mapping.internal_port),
                "description": mapping.description or "-",
                "owner": report.owner or "unknown",
                "flags": ", ".join(sorted(report.flags)) or "none",
            },
            data={"entry_id": self.config_entry.entry_id, "mapping": key_id(mapping.key)},
        )
        self._fire("policy_violation", report)

    def _fire(self, event_type: str, report: MappingReport) -> None:
        self.hass.bus.async_fire(
            EVENT_PORT_MAPPING,
            {"config_entry_id": self.config_entry.entry_id, "type": event_type} | report.as_dict(),
        )

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
                "router": self.config_entry.title,
                "router_host": host,
                "protocol": mapping.protocol,
                "external_port": str(mapping.external_port),
                "internal_client": mapping.internal_client,
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
                "router": self.config_entry.title,
                "baseline": self.dns_baseline or "-",
                "servers": servers or "-",
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
            await self.async_add_owned(owned)
        except (UpnpError, ClientError, TimeoutError) as err:
            _LOGGER.warning("Renewing port mapping %s failed: %s", key_id(owned.key), err)
            # Try again soon; the poll also re-adds it if the router dropped it.
            self._schedule_renewal(owned, None)

    def _cancel_renewal(self, key: MappingKey) -> None:
        if (cancel := self._renewals.pop(key, None)) is not None:
            cancel()

    async def _async_restore_owned(self, mappings: list[PortMapping]) -> bool:
        """Re-add owned mappings the router lost (reboot, lease ran out while we were away)."""
        present = {m.key: m for m in mappings}
        restored = False
        for key, owned in list(self.owned.items()):
            current = present.get(key)
            if current is not None and current.internal_client == owned.internal_client:
                if key not in self._renewals:
                    self._schedule_renewal(owned, current)
                continue
            if current is not None:
                # Someone else holds the port now; do not fight over it.
                _LOGGER.warning("Port %s is now mapped to another host", key_id(key))
                continue
            _LOGGER.info("Re-adding owned port mapping %s", key_id(key))
            try:
                await self._async_add(owned)
            except UpnpError as err:
                _LOGGER.warning("Re-adding port mapping %s failed: %s", key_id(key), err)
                continue
            self._schedule_renewal(owned, None)
            restored = True
        return restored

    async def async_forget_owned(self, key: MappingKey) -> None:
        self._cancel_renewal(key)
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
