"""The live link to one UPnP appliance: description, GENA subscriptions, availability.

State comes from GENA events (UDA 1.1 section 4): every service with evented state
variables is subscribed through a notify server bound to the local address routed to
the device (as core `dlna_dmr` does), and renewed before it expires; a failed renewal
marks the device unavailable and retries with backoff. This module orchestrates the
parts, each in its own module: the subscriptions and their renewal (subscriptions.py,
over ../gena.py), the polling fallback for devices that refuse SUBSCRIBE (polling.py),
liveness probes and the reconnect backoff (availability.py), what SSDP announcements
say: byebye, alive, a new BOOTID (presence.py), and what our agents report outside GENA
(agent_info.py). It owns the availability flag, the reconnect and the listeners the
entities register.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from async_upnp_client.client import UpnpDevice, UpnpService
from async_upnp_client.event_handler import UpnpEventHandler
from async_upnp_client.utils import async_get_local_ip
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from ..gena import GenaSubscriptions, Subscription
from ..lan_text import get_logger
from ..notify import notify_server_pool
from ..paired import PairedAgent
from ..transport import TRANSPORT_ERRORS
from .agent_info import async_read_agent_info
from .availability import LivenessProbe, ReconnectBackoff
from .const import AGENT_INFO
from .description import async_load_appliance, evented_services, service_urls
from .polling import StatePoller
from .presence import SsdpPresence
from .subscriptions import ApplianceSubscriptions

_LOGGER = get_logger(__name__)

type StateListener = Callable[[UpnpService, bool], None]
"""Called with the service whose state changed and whether the change is a resync
(the initial event of a new subscription, or a reconnect) rather than a live change."""

type ApplianceConfigEntry = ConfigEntry[ApplianceConnection]


class ApplianceConnection:
    """Runtime data of an appliance entry: the device and its event subscriptions."""

    def __init__(
        self,
        hass: HomeAssistant,
        device: UpnpDevice,
        event_handler: UpnpEventHandler,
        local_ip: str,
        entry_id: str,
    ) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.device = device
        self.local_ip = local_ip
        self.event_handler = event_handler
        self.available = True
        self.gena = GenaSubscriptions(hass, event_handler)
        self.reconnect_count = 0
        self._listeners: list[StateListener] = []
        self._subscriptions = ApplianceSubscriptions(
            hass,
            device,
            self.gena,
            is_closed=lambda: self._closed,
            on_event=self._notify,
            on_renewal_failed=self._on_renewal_failed,
        )
        # One control exchange with the device at a time, whichever entity or service
        # call asks: our agent serves 4 HTTP connections in all (503 beyond) and its GENA
        # traffic needs some of them. This is where entities queue (PARALLEL_UPDATES = 0).
        self.control_lock = asyncio.Lock()
        self._reconnect_lock = asyncio.Lock()
        self._closed = False
        self._backoff = ReconnectBackoff(hass, self.async_reconnect)
        self._liveness = LivenessProbe(
            hass,
            device,
            self.gena,
            may_probe=lambda: self.available and not self._reconnect_lock.locked(),
            is_closed=lambda: self._closed,
            on_silent=self._on_probes_unanswered,
            on_forgotten=lambda: self.async_reconnect(force=True),
        )
        # Services the device would not let us subscribe to: state is polled instead.
        self._poller = StatePoller(
            hass,
            device,
            self.control_lock,
            is_available=lambda: self.available,
            subscribe=self._subscriptions.async_subscribe,
            on_subscribed=self._on_subscribed,
            on_read=self._on_polled,
            on_failure=self._set_unavailable,
        )
        self._presence = SsdpPresence(
            hass,
            device,
            local_ip,
            is_available=lambda: self.available,
            is_closed=lambda: self._closed,
            on_boot_id=self._on_boot_id,
            on_byebye=self._on_byebye,
            reconnect=self.async_reconnect,
        )
        # Device registry id of the root device (embedded devices link to it).
        self.root_device_id: str | None = None
        # Wall-clock time the device booted (from the agent's Uptime), when known.
        self.booted_at: float | None = None
        # A paired agent: how its requests are signed and its events checked.
        self.paired: PairedAgent | None = None

    @property
    def udn(self) -> str:
        """The root device's UDN (the entry's unique id)."""
        return self.device.udn

    @property
    def subscriptions(self) -> dict[str, Subscription]:
        """The GENA subscriptions held now, by SID."""
        return self.gena.active

    @property
    def polled_services(self) -> list[UpnpService]:
        """Services the device would not let us subscribe to: their state is polled."""
        return self._poller.services

    @property
    def event_count(self) -> int:
        """GENA events received so far."""
        return self._subscriptions.event_count

    @property
    def push(self) -> bool:
        """Whether state arrives by GENA events (else it is polled)."""
        return bool(self.subscriptions) and not self.polled_services

    @property
    def boot_id(self) -> int | None:
        """The device's BOOTID.UPNP.ORG as last announced, when known."""
        return self._presence.boot_id

    @property
    def probe_failures(self) -> int:
        """Unanswered liveness probes in a row."""
        return self._liveness.failures

    # -- listeners ----------------------------------------------------------------------
    @callback
    def async_add_listener(self, listener: StateListener) -> CALLBACK_TYPE:
        """Call `listener` on every state or availability change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _notify(self, service: UpnpService, resync: bool) -> None:
        for listener in list(self._listeners):
            listener(service, resync)

    @callback
    def async_event_rejected(self) -> None:
        """A NOTIFY of this paired agent was refused: its counter sensor follows."""
        if (info := self.device.find_service(AGENT_INFO)) is not None:
            self._notify(info, False)

    @callback
    def _notify_all(self) -> None:
        for service in self.device.all_services:
            self._notify(service, True)

    # -- start / stop -------------------------------------------------------------------
    async def async_start(self) -> None:
        """Read non-evented facts, subscribe to every evented service, listen to SSDP."""
        await self._async_read_info()
        await self._async_subscribe_all()
        await self._presence.async_start()

    async def async_stop(self) -> None:
        """Unsubscribe and release the notify server (entry unload)."""
        self._closed = True
        self._presence.stop()
        self._cancel_timers()
        await self.gena.async_unsubscribe_all()
        await notify_server_pool(self.hass).async_release(self.local_ip)

    def _cancel_timers(self) -> None:
        self._subscriptions.cancel_renewal()
        self._backoff.cancel()
        self._poller.stop()
        self._liveness.stop()
        self._presence.cancel_deferred()

    # -- subscriptions ------------------------------------------------------------------
    async def _async_subscribe_all(self) -> None:
        """Subscribe to every evented service; poll the ones that refuse."""
        self._poller.services = []
        for service in evented_services(self.device):
            if not await self._subscriptions.async_subscribe(service):
                self._poller.services.append(service)
        self._on_subscribed()
        await self._poller.async_start()

    @callback
    def _on_subscribed(self) -> None:
        """Subscriptions were made: schedule their renewal, probe the device through them."""
        self._subscriptions.schedule_renewal()
        self._liveness.start()

    # -- polling fallback ---------------------------------------------------------------
    @callback
    def _on_polled(self, service: UpnpService) -> None:
        self._set_available()
        self._notify(service, False)

    async def async_refresh_after_control(self, service: UpnpService) -> None:
        """After an action, polled devices are read back (pushed ones send an event)."""
        if service in self.polled_services:
            await self._poller.async_read(service)
            self._notify(service, False)

    async def _async_read_info(self) -> None:
        """Read values that are not evented (our agent's firmware version, uptime)."""
        booted_at = await async_read_agent_info(
            self.hass, self.device, self.entry_id, self._poller.async_read
        )
        if booted_at is not None:
            self.booted_at = booted_at

    # -- availability -------------------------------------------------------------------
    @callback
    def _on_renewal_failed(self, err: Exception) -> None:
        self._set_unavailable(f"renewal failed: {err!r}")
        self._schedule_retry()

    @callback
    def _on_probes_unanswered(self, reason: str) -> None:
        if self.available:
            # Keep the subscriptions: if it was the network and not the device, the
            # reconnect unsubscribes them once the device answers again.
            self._cancel_timers()
            self._set_unavailable(reason)
            self._schedule_retry()

    @callback
    def _on_byebye(self) -> None:
        self._cancel_timers()
        self._subscriptions.forget()
        self._set_unavailable("ssdp:byebye")

    @callback
    def _on_boot_id(self, boot_id: int) -> None:
        if self.paired is not None:
            # Sign with the new boot id from the start (no refusal to learn it from).
            self.paired.learn_boot_id(boot_id)

    @callback
    def _set_unavailable(self, reason: str) -> None:
        if self.available:
            _LOGGER.info("%s is unavailable: %s", self.device.friendly_name, reason)
        self.available = False
        self._notify_all()

    @callback
    def _set_available(self) -> None:
        if not self.available:
            _LOGGER.info("%s is available again", self.device.friendly_name)
        self.available = True
        self._backoff.reset()
        self._liveness.failures = 0
        self._notify_all()

    @callback
    def _schedule_retry(self) -> None:
        if not self._closed:
            self._backoff.schedule()

    async def async_reconnect(self, *, force: bool = False) -> bool:
        """Fresh subscriptions after a reboot, a byebye or a failure; backoff on failure.

        `force` reconnects an available device too (it answered that it lost our
        subscriptions).
        """
        wanted_boot_id = self._presence.boot_id
        async with self._reconnect_lock:
            if self._closed:
                return False
            if not force and self.available and self._presence.connected_boot_id == wanted_boot_id:
                # Another announcement (devices send several) already reconnected us.
                return True
            self.reconnect_count += 1
            self._cancel_timers()
            try:
                # The description first: a device that still does not answer is not
                # sent a round of UNSUBSCRIBEs that would each wait for their timeout.
                description_changed = await self._async_description_changed()
            except TRANSPORT_ERRORS as err:
                self._set_unavailable(f"reconnect failed: {err!r}")
                self._schedule_retry()
                return False
            # A device that did not reboot still holds our old subscriptions; leaving
            # them would fill its subscriber table (our agent has 4 places).
            await self.gena.async_unsubscribe_all()
            self._subscriptions.forget()
            if description_changed:
                # New control/event URLs (our agent draws a random path component at
                # every boot): rebuild everything from the new description.
                _LOGGER.info("%s has a new description; reloading", self.device.friendly_name)
                self._closed = True
                self.hass.config_entries.async_schedule_reload(self.entry_id)
                return False
            try:
                await self._async_read_info()
                await self._async_subscribe_all()
            except TRANSPORT_ERRORS as err:
                self._subscriptions.forget()
                self._set_unavailable(f"reconnect failed: {err!r}")
                self._schedule_retry()
                return False
            self._presence.connected_boot_id = wanted_boot_id
            self._set_available()
            return True

    async def _async_description_changed(self) -> bool:
        fresh = await async_load_appliance(self.hass, self.device.device_url)
        return service_urls(fresh) != service_urls(self.device)

    @callback
    def async_mark_failed(self, err: Exception) -> None:
        """A control request failed at the transport level: unavailable until it recovers."""
        self._set_unavailable(f"request failed: {err!r}")
        self._schedule_retry()


async def async_local_ip_for(location: str, hass: HomeAssistant) -> str:
    """The local address the kernel routes to the device: where it must send NOTIFY."""
    _family, local_ip = await async_get_local_ip(location, hass.loop)
    return local_ip
