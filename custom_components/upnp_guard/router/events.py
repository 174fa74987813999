"""GENA eventing of a router: evented WAN values arrive at once, the rest stays polled.

WANIPConnection/WANPPPConnection event ConnectionStatus, ExternalIPAddress and
PortMappingNumberOfEntries; WANCommonInterfaceConfig events PhysicalLinkStatus (its
traffic counters are never evented, so the poll stays for them). An event applies the
values it carries and, when they changed (or the mapping count differs from the
inventory), asks the coordinator for a (debounced) refresh so the inventory and the
policy run now rather than at the next poll.
The notify server is the one appliance entries use, shared per local address
(notify.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from async_upnp_client.client import UpnpService, UpnpStateVariable
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ..const import RESUBSCRIBE_RETRY_DELAY
from ..gena import GenaSubscriptions, Subscription
from ..lan_text import get_logger
from ..notify import GENA_ERRORS, notify_server_pool
from ..pending import Pending
from .coordinator import RouterCoordinator
from .igd import IgdClient

_LOGGER = get_logger(__name__)

VAR_CONNECTION_STATUS = "ConnectionStatus"
VAR_EXTERNAL_IP = "ExternalIPAddress"
VAR_MAPPING_COUNT = "PortMappingNumberOfEntries"


def evented_router_services(client: IgdClient) -> list[UpnpService]:
    """The router's services worth a subscription: those with an evented variable."""
    services = [client.connection] + ([client.common] if client.common is not None else [])
    return [
        service
        for service in services
        if service.event_sub_url
        and any(var.send_events for var in service.state_variables.values())
    ]


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


class RouterEvents:
    """The GENA subscriptions one router entry holds."""

    def __init__(self, hass: HomeAssistant, coordinator: RouterCoordinator, local_ip: str) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self.local_ip = local_ip
        self.event_count = 0
        self._gena: GenaSubscriptions | None = None
        self._renewal = Pending()
        self._closed = False
        # The last value each evented variable had, to tell changes from repeats.
        self._evented: dict[str, str] = {}
        self._uptime: int | None = None
        # Whether the last poll reached the router (a failed one, then a good one: it was
        # unreachable and may have dropped us after NOTIFYs it could not deliver).
        self._reachable = True
        self._poll_listener = Pending()

    @property
    def subscriptions(self) -> dict[str, Subscription]:
        """The GENA subscriptions held now, by SID."""
        return {} if self._gena is None else self._gena.active

    async def async_start(self) -> None:
        """Start (or share) the notify server and subscribe where the router events."""
        try:
            handler = await notify_server_pool(self.hass).async_acquire(self.local_ip)
        except OSError as err:
            _LOGGER.warning(
                "No notify server on %s (%s); the router stays polled", self.local_ip, err
            )
            return
        self._gena = GenaSubscriptions(self.hass, handler)
        await self._async_subscribe_all()
        self._uptime = self.coordinator.data.wan.uptime
        self._poll_listener.start(self.coordinator.async_add_listener(self._on_poll))

    async def async_stop(self) -> None:
        """Cancel every subscription and release the notify server (entry unload)."""
        self._closed = True
        self._poll_listener.cancel()
        self._renewal.cancel()
        gena, self._gena = self._gena, None
        if gena is None:
            return
        await gena.async_unsubscribe_all()
        await notify_server_pool(self.hass).async_release(self.local_ip)

    async def _async_subscribe_all(self) -> None:
        assert self._gena is not None
        for service in evented_router_services(self.coordinator.client):
            try:
                await self._gena.async_subscribe(service, self._on_event)
            except GENA_ERRORS as err:
                _LOGGER.info(
                    "Router refused SUBSCRIBE to %s (%r); it stays polled",
                    service.service_id,
                    err,
                )
        if (delay := self._gena.next_renewal_s()) is not None:
            self._schedule(delay)
        elif evented_router_services(self.coordinator.client):
            self._schedule(RESUBSCRIBE_RETRY_DELAY)

    @callback
    def _schedule(self, delay: float) -> None:
        # One renewal pending at a time, however the previous one was triggered.
        self._renewal.cancel()
        if self._closed:
            return
        self._renewal.start(async_call_later(self.hass, delay, self._renew))

    @callback
    def _renew(self, _now: datetime) -> None:
        self._renewal.ran()
        self.coordinator.config_entry.async_create_background_task(
            self.hass, self._async_renew(), "upnp_guard router GENA renewal"
        )

    async def _async_renew(self) -> None:
        """Renew every subscription; a router that lost them (reboot) gets fresh ones."""
        gena = self._gena
        if self._closed or gena is None:
            return
        try:
            await gena.async_renew_all()
        except GENA_ERRORS as err:
            _LOGGER.debug("Renewing router subscriptions failed (%r); subscribing again", err)
            await gena.async_unsubscribe_all()
            await self._async_subscribe_all()
            return
        if (delay := gena.next_renewal_s()) is None:
            await self._async_subscribe_all()
            return
        self._schedule(delay)

    @callback
    def _on_poll(self) -> None:
        """A router whose uptime went back rebooted and forgot us, and one that was
        unreachable (its NOTIFYs failed meanwhile, and it may have dropped us): renew (and
        so resubscribe where it refuses).

        Without this, events would stay silent until the next scheduled renewal.
        """
        uptime = self.coordinator.data.wan.uptime
        rebooted = uptime is not None and self._uptime is not None and uptime < self._uptime
        if uptime is not None:
            self._uptime = uptime
        reachable = self.coordinator.last_update_success
        back = reachable and not self._reachable
        self._reachable = reachable
        if (rebooted or back) and self.subscriptions and not self._closed:
            _LOGGER.debug("Router rebooted or reachable again; renewing its subscriptions now")
            self._schedule(0)

    @callback
    def _on_event(self, service: UpnpService, variables: Sequence[UpnpStateVariable[Any]]) -> None:
        """Apply what the event carries; refresh when it says the table or WAN changed."""
        if self._closed:
            return
        self.event_count += 1
        # Subscriptions start after the first refresh: there is always a state.
        state = self.coordinator.data
        values = {var.name: str(var.value) for var in variables if var.value is not None}
        changed = {
            name: value for name, value in values.items() if self._evented.get(name, value) != value
        }
        self._evented.update(values)
        # The first event of a subscription is a baseline taken right after a poll: only
        # later changes count. Routers may disagree between event and action (miniupnpd
        # events a private WAN address its GetExternalIPAddress refuses to give), so
        # comparing an event against the poll would make the sensor flip at every event.
        stale = False
        if (status := changed.get(VAR_CONNECTION_STATUS)) is not None:
            state.wan.connection_status = status
            stale = True
        if (address := changed.get(VAR_EXTERNAL_IP)) is not None:
            state.wan.external_ip = address or None
            stale = True
        if (count := values.get(VAR_MAPPING_COUNT)) is not None:
            # The count alone says nothing of which mapping came or went: only the
            # inventory can audit it, so a different count means refresh.
            stale |= VAR_MAPPING_COUNT in changed or _as_int(count) != len(state.reports)
        _LOGGER.debug("Router event from %s: %s", service.service_id, values)
        if stale:
            self.coordinator.async_update_listeners()
            self.coordinator.config_entry.async_create_task(
                self.hass, self.coordinator.async_request_refresh(), "upnp_guard router event"
            )
