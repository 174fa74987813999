"""The port mappings UPnP Guard owns on a router: adding, renewing, restoring, storing.

An owned mapping is leased (it expires on its own if Home Assistant is gone) and renewed
at RENEW_FRACTION of what the router granted. One that vanished is re-added silently only
when the router restarted since it was last seen; otherwise a repair issue asks the user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from async_upnp_client.exceptions import UpnpError
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..lan_text import get_logger
from ..transport import TRANSPORT_ERRORS
from .const import RENEW_FRACTION, STORAGE_VERSION, UPTIME_SLACK
from .igd import IgdClient
from .issues import RouterIssue, RouterIssues
from .models import MappingKey, OwnedMapping, PortMapping, key_id

if TYPE_CHECKING:
    from .data import RouterConfigEntry

_LOGGER = get_logger(__name__)


def router_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a router entry keeps owned mappings, first-seen times and the DNS baseline."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.router.{entry_id}")


class OwnedLeases:
    """The owned mappings of one router entry and their renewal timers."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: RouterConfigEntry,
        client: IgdClient,
        table_lock: asyncio.Lock,
        issues: RouterIssues,
        *,
        save: Callable[[], None],
        request_refresh: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.client = client
        self.table_lock = table_lock
        self.issues = issues
        self._save = save
        self._request_refresh = request_refresh
        self.owned: dict[MappingKey, OwnedMapping] = {}
        self._renewals: dict[MappingKey, CALLBACK_TYPE] = {}
        # When each owned mapping was last seen on (or added to) the router, and the
        # owned mappings that vanished and wait for the user (re-add or forget).
        self._confirmed: dict[MappingKey, datetime] = {}
        self.missing: set[MappingKey] = set()

    # -- storage --------------------------------------------------------------------------
    def load(self, stored: list[dict[str, Any]]) -> None:
        for item in stored:
            owned = OwnedMapping.from_dict(item)
            self.owned[owned.key] = owned

    def as_stored(self) -> list[dict[str, Any]]:
        return [owned.as_dict() for owned in self.owned.values()]

    # -- adding and renewing --------------------------------------------------------------
    async def async_add(self, owned: OwnedMapping) -> PortMapping | None:
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
                self.entry.async_create_background_task(
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
                await self._request_refresh()
                return
            await self.async_add(owned)
        except TRANSPORT_ERRORS as err:
            _LOGGER.warning("Renewing port mapping %s failed: %s", key_id(owned.key), err)
            # Try again soon; the poll also re-adds it if the router dropped it.
            self._schedule_renewal(owned, None)

    def _cancel_renewal(self, key: MappingKey) -> None:
        if (cancel := self._renewals.pop(key, None)) is not None:
            cancel()

    def cancel_all(self) -> None:
        for key in list(self._renewals):
            self._cancel_renewal(key)

    # -- what the poll found --------------------------------------------------------------
    async def async_restore(self, mappings: list[PortMapping], uptime: int | None) -> bool:
        """Re-add owned mappings a router restart lost; ask about any other that vanished.

        A mapping that went while the router kept running was removed by someone (the
        user, in the router's own interface): re-adding it silently would undo that, so a
        repair issue asks to re-add or forget it. True if any was re-added. Called with
        the table lock held.
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
        self.issues.raise_owned_missing(owned)

    def _resolve_missing(self, key: MappingKey) -> None:
        if key in self.missing:
            self.missing.discard(key)
            self.issues.delete(RouterIssue.OWNED_MISSING, key)

    # -- the user's answers ---------------------------------------------------------------
    async def async_readd(self, key: MappingKey) -> PortMapping | None:
        """The user asked to re-add a vanished owned mapping."""
        owned = self.owned[key]
        self._resolve_missing(key)
        granted = await self.async_add(owned)
        await self._request_refresh()
        return granted

    def forget(self, key: MappingKey) -> None:
        """Stop owning a mapping (it stays on the router until its lease runs out)."""
        self._cancel_renewal(key)
        self._resolve_missing(key)
        self._confirmed.pop(key, None)
        if self.owned.pop(key, None) is not None:
            self._save()
