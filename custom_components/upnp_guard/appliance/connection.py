"""The live link to one UPnP appliance: description, GENA subscriptions, availability.

State comes from GENA events (UDA 1.1 section 4): every service with evented state
variables is subscribed through a notify server bound to the local address routed to
the device (as core `dlna_dmr` does), and renewed before it expires. SSDP drives
availability: ssdp:byebye makes the device unavailable at once, ssdp:alive brings it
back with fresh subscriptions, and a new BOOTID.UPNP.ORG (the device rebooted and forgot
its subscribers, UDA 1.1 section 1.2.2) reconnects. Announcements count only when they
come from the device's own address (the host of its location; any LAN host can forge
one with the device's UDN): others are ignored and counted (foreign_announcements in
the transport counters), and SSDP-triggered reconnects happen at most once every
RESUBSCRIBE_MIN_INTERVAL_S (a burst leaves one scheduled for later). A failed renewal
marks the device unavailable and retries with exponential backoff. A device that dies
without a word (power cut, crash) sends no byebye: while subscribed, one subscription
is renewed every LIVENESS_PROBE_INTERVAL_S as a probe, and LIVENESS_PROBE_FAILURES
unanswered probes in a row make the device unavailable until a reconnect succeeds.
Devices that refuse SUBSCRIBE are polled through their getter actions instead (the
polls then tell liveness).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from async_upnp_client.client import UpnpAction, UpnpDevice, UpnpService, UpnpStateVariable
from async_upnp_client.const import HttpRequest
from async_upnp_client.event_handler import UpnpEventHandler
from async_upnp_client.exceptions import UpnpResponseError
from async_upnp_client.utils import async_get_local_ip
from homeassistant.components import ssdp
from homeassistant.components.ssdp.scanner import SsdpChange
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from ..const import (
    DOMAIN,
    RESUBSCRIBE_MIN_INTERVAL_S,
    SUBSCRIPTION_TIMEOUT_S,
)
from ..gena import GenaSubscriptions, Subscription
from ..lan_text import get_logger, log, markdown
from ..location import announcement_source, is_from_device
from ..notify import GENA_ERRORS, notify_server_pool
from ..paired import PairedAgent
from ..transport import TRANSPORT_ERRORS, device_requester
from .const import (
    AGENT_INFO,
    BINARY_INPUT,
    DIMMING,
    HUMIDITY_SENSOR,
    LIVENESS_PROBE_FAILURES,
    LIVENESS_PROBE_INTERVAL_S,
    LIVENESS_PROBE_TIMEOUT_S,
    POLL_INTERVAL_S,
    RECONNECT_BACKOFF_INITIAL_S,
    RECONNECT_BACKOFF_MAX_S,
    REQUEST_TIMEOUT_S,
    SECURITY_MODE_OPEN,
    SUBSCRIBE_RETRY_POLLS,
    SWITCH_POWER,
    TEMPERATURE_SENSOR,
)
from .description import async_load_appliance

_LOGGER = get_logger(__name__)

type StateListener = Callable[[UpnpService, bool], None]
"""Called with the service whose state changed and whether the change is a resync
(the initial event of a new subscription, or a reconnect) rather than a live change."""

type ApplianceConfigEntry = ConfigEntry[ApplianceConnection]

SUBSCRIBE_PRIORITY: tuple[str, ...] = (
    BINARY_INPUT,
    SWITCH_POWER,
    DIMMING,
    TEMPERATURE_SENSOR,
    HUMIDITY_SENSOR,
)


def evented_services(device: UpnpDevice) -> list[UpnpService]:
    """Services to subscribe to, most valuable first.

    Devices cap their subscriptions (our agent: 4 per service, 32 in all, for its memory)
    and answer 503 beyond; the services left over are polled. Momentary inputs come
    first because a poll can count presses but never see them as they happen.
    AgentInfo is not subscribed: its evented BootId repeats SSDP's BOOTID.UPNP.ORG, and
    GetInfo is read again on every reconnect.
    """
    services = [
        service
        for service in device.all_services
        if service.service_type != AGENT_INFO
        and any(variable.send_events for variable in service.state_variables.values())
    ]

    def priority(service: UpnpService) -> int:
        if service.service_type in SUBSCRIBE_PRIORITY:
            return SUBSCRIBE_PRIORITY.index(service.service_type)
        return len(SUBSCRIBE_PRIORITY)

    return sorted(services, key=priority)  # stable: description order within a type


def service_urls(device: UpnpDevice) -> set[tuple[str, str, str]]:
    """Where the device's services are reached: changes mean a new description."""
    return {
        (service.service_type, service.control_url, service.event_sub_url)
        for service in device.all_services
    }


def getter_actions(service: UpnpService) -> list[UpnpAction]:
    """Actions that take no input and report state variables: how state is polled."""
    return [
        action
        for action in service.actions.values()
        if not action.in_arguments() and action.out_arguments()
    ]


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
        self.boot_id: int | None = None
        # The BOOTID our current subscriptions were made under.
        self._connected_boot_id: int | None = None
        self.gena = GenaSubscriptions(hass, event_handler)
        # Services the device would not let us subscribe to: state is polled instead.
        self.polled_services: list[UpnpService] = []
        self.event_count = 0
        self.reconnect_count = 0
        self._resync_pending: set[str] = set()
        self._listeners: list[StateListener] = []
        self._renewal_cancel: CALLBACK_TYPE | None = None
        self._retry_cancel: CALLBACK_TYPE | None = None
        self._poll_cancel: CALLBACK_TYPE | None = None
        self._poll_count = 0
        self._probe_cancel: CALLBACK_TYPE | None = None
        # Unanswered liveness probes in a row, and whose turn it is to be renewed.
        self.probe_failures = 0
        self._probe_turn = 0
        # A probe was refused and we resubscribed; refused again, the device just does
        # not renew (the scheduled renewal falls back to fresh SUBSCRIBEs for those).
        self._probe_refused = False
        # One control exchange with the device at a time, whichever entity or service
        # call asks: our agent serves 4 HTTP connections in all (503 beyond) and its GENA
        # traffic needs some of them. This is where entities queue (PARALLEL_UPDATES = 0).
        self.control_lock = asyncio.Lock()
        self._backoff = RECONNECT_BACKOFF_INITIAL_S
        self._reconnect_lock = asyncio.Lock()
        self._closed = False
        self._ssdp_unsubscribe: list[CALLBACK_TYPE] = []
        # When SSDP last made us reconnect, and a reconnect it deferred (rate limit).
        self._ssdp_reconnected_at: float | None = None
        self._ssdp_reconnect_cancel: CALLBACK_TYPE | None = None
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
    def push(self) -> bool:
        """Whether state arrives by GENA events (else it is polled)."""
        return bool(self.subscriptions) and not self.polled_services

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

    @callback
    def _on_service_event(
        self, service: UpnpService, _variables: Sequence[UpnpStateVariable[Any]]
    ) -> None:
        """A NOTIFY for one of our subscriptions was parsed into the state variables."""
        self.event_count += 1
        key = service.service_id + service.device.udn
        resync = key in self._resync_pending
        self._resync_pending.discard(key)
        self._notify(service, resync)

    # -- start / stop -------------------------------------------------------------------
    async def async_start(self) -> None:
        """Read non-evented facts, subscribe to every evented service, listen to SSDP."""
        await self._async_read_info()
        await self._async_subscribe_all()
        self._ssdp_unsubscribe.append(
            await ssdp.async_register_callback(
                self.hass, self._async_on_ssdp, {"_udn": self.device.udn}
            )
        )

    async def async_stop(self) -> None:
        """Unsubscribe and release the notify server (entry unload)."""
        self._closed = True
        for unsubscribe in self._ssdp_unsubscribe:
            unsubscribe()
        self._ssdp_unsubscribe.clear()
        self._cancel_timers()
        await self._async_unsubscribe_all()
        await notify_server_pool(self.hass).async_release(self.local_ip)

    def _cancel_timers(self) -> None:
        for name in (
            "_renewal_cancel",
            "_retry_cancel",
            "_poll_cancel",
            "_probe_cancel",
            "_ssdp_reconnect_cancel",
        ):
            cancel: CALLBACK_TYPE | None = getattr(self, name)
            if cancel is not None:
                cancel()
                setattr(self, name, None)

    # -- subscriptions ------------------------------------------------------------------
    async def _async_subscribe_all(self) -> None:
        """Subscribe to every evented service; poll the ones that refuse."""
        self.polled_services = []
        for service in evented_services(self.device):
            if not await self._async_subscribe(service):
                self.polled_services.append(service)
        self._schedule_renewal()
        self._start_probing()
        if self.polled_services:
            await self._async_poll()
            if self._poll_cancel is None:
                self._poll_count = 0
                self._poll_cancel = async_track_time_interval(
                    self.hass,
                    self._async_poll_interval,
                    timedelta(seconds=POLL_INTERVAL_S),
                    name=f"{DOMAIN} poll {self.device.udn}",
                )

    async def _async_subscribe(self, service: UpnpService) -> bool:
        """Subscribe to one service; False when the device refuses (it will be polled)."""
        self._resync_pending.add(service.service_id + service.device.udn)
        try:
            await self.gena.async_subscribe(service, self._on_service_event)
        except UpnpResponseError as err:
            # A refusal, not a network failure: GENA not offered here, or the device's
            # subscriber table is full (503).
            self._resync_pending.discard(service.service_id + service.device.udn)
            _LOGGER.info(
                "%s refused SUBSCRIBE to %s (HTTP %s); polling it every %s s",
                self.device.friendly_name,
                service.service_id,
                err.status,
                POLL_INTERVAL_S,
            )
            return False
        return True

    async def _async_unsubscribe_all(self) -> None:
        await self.gena.async_unsubscribe_all()

    @callback
    def _forget_subscriptions(self) -> None:
        """Drop subscriptions a gone or rebooted device no longer holds: a NOTIFY with an
        old SID must not update state any more (gena.py)."""
        self.gena.forget_all()

    @callback
    def _schedule_renewal(self) -> None:
        if self._renewal_cancel is not None:
            self._renewal_cancel()
            self._renewal_cancel = None
        delay = self.gena.next_renewal_s()
        if delay is None or self._closed:
            return
        self._renewal_cancel = async_call_later(self.hass, delay, self._async_renew)

    async def _async_renew(self, _now: Any) -> None:
        self._renewal_cancel = None
        try:
            await self.gena.async_renew_all()
        except GENA_ERRORS as err:
            self._forget_subscriptions()
            self._set_unavailable(f"renewal failed: {err!r}")
            self._schedule_retry()
            return
        self._schedule_renewal()

    # -- polling fallback ---------------------------------------------------------------
    async def _async_poll_interval(self, _now: Any) -> None:
        self._poll_count += 1
        if self.available and self._poll_count % SUBSCRIBE_RETRY_POLLS == 0:
            # A full subscriber table frees up as other subscriptions expire.
            for service in list(self.polled_services):
                with contextlib.suppress(*TRANSPORT_ERRORS):
                    if await self._async_subscribe(service):
                        self.polled_services.remove(service)
            self._schedule_renewal()
            self._start_probing()
            if not self.polled_services and self._poll_cancel is not None:
                self._poll_cancel()
                self._poll_cancel = None
                return
        await self._async_poll()

    async def _async_poll(self) -> None:
        for service in self.polled_services:
            try:
                await self.async_read_service(service)
            except TRANSPORT_ERRORS as err:
                self._set_unavailable(f"poll failed: {err!r}")
                return
            self._set_available()
            self._notify(service, False)

    async def async_read_service(self, service: UpnpService) -> None:
        """Read a service's state through its getter actions (stored in its variables)."""
        for action in getter_actions(service):
            async with self.control_lock, asyncio.timeout(REQUEST_TIMEOUT_S):
                result = await action.async_call()
            for argument in action.out_arguments():
                if argument.name in result:
                    argument.related_state_variable.value = result[argument.name]

    async def async_refresh_after_control(self, service: UpnpService) -> None:
        """After an action, polled devices are read back (pushed ones send an event)."""
        if service in self.polled_services:
            await self.async_read_service(service)
            self._notify(service, False)

    async def _async_read_info(self) -> None:
        """Read values that are not evented (our agent's firmware version, uptime)."""
        info = self.device.find_service(AGENT_INFO)
        if info is None:
            return
        with contextlib.suppress(*TRANSPORT_ERRORS):
            await self.async_read_service(info)
        if info.has_state_variable("Uptime"):
            uptime = info.state_variable("Uptime").value
            if isinstance(uptime, int):
                self.booted_at = time.time() - uptime
        if info.has_state_variable("SecurityMode"):
            self._update_open_mode_issue(info.state_variable("SecurityMode").value)

    @callback
    def _update_open_mode_issue(self, mode: Any) -> None:
        """An agent in open mode obeys anyone on the LAN (DESIGN, trust model): say so."""
        if mode is None:  # not read (yet): keep what we knew
            return
        issue_id = open_mode_issue_id(self.entry_id)
        if mode != SECURITY_MODE_OPEN:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="agent_open_mode",
            # The friendly name is the device's to choose: inert in the markdown.
            translation_placeholders={"name": markdown(self.device.friendly_name)},
        )

    # -- liveness -----------------------------------------------------------------------
    @callback
    def _start_probing(self) -> None:
        """Probe while subscribed (polled devices show their liveness by answering polls)."""
        if self._probe_cancel is not None or not self.subscriptions or self._closed:
            return
        self.probe_failures = 0
        self._probe_cancel = async_track_time_interval(
            self.hass,
            self._async_probe,
            timedelta(seconds=LIVENESS_PROBE_INTERVAL_S),
            name=f"{DOMAIN} liveness {self.device.udn}",
        )

    async def _async_probe(self, _now: Any) -> None:
        """Renew one of our subscriptions to learn whether the device is still there.

        A renewal rather than a GET of the description: it is header-only both ways,
        where the description is several KB a small device has to send each time (our
        agent's, with its embedded devices, is the largest thing it serves), and it proves
        more than that something answers at the address: that the device still holds our
        subscription. A device that rebooted without an SSDP announcement we heard
        answers 412 (UDA 1.1 section 4.1.2), or 404 when the event URL went with the old
        boot, and is resubscribed now instead of at the next renewal up to half an hour
        later. A renewal is traffic the device expects from a subscriber anyway: it only
        moves the expiry forward. It is sent by hand, not through the event handler, so
        that a failure leaves the handler's bookkeeping alone (the handler's renewal
        would fall back to a fresh SUBSCRIBE and leave the old SID with the device).
        """
        if (
            self._closed
            or not self.available
            or self._reconnect_lock.locked()
            or not self.subscriptions
        ):
            return
        self._probe_turn += 1
        sids = list(self.subscriptions)
        sid = sids[self._probe_turn % len(sids)]
        event_url = self.subscriptions[sid].service.event_sub_url
        request = HttpRequest(
            "SUBSCRIBE",
            event_url,
            {"SID": sid, "TIMEOUT": f"Second-{SUBSCRIPTION_TIMEOUT_S}"},
            None,
        )
        try:
            async with asyncio.timeout(LIVENESS_PROBE_TIMEOUT_S):
                response = await self.device.requester.async_http_request(request)
        except TRANSPORT_ERRORS as err:
            self.probe_failures += 1
            _LOGGER.debug(
                "%s did not answer liveness probe %s/%s: %r",
                self.device.friendly_name,
                self.probe_failures,
                LIVENESS_PROBE_FAILURES,
                err,
            )
            if self.probe_failures >= LIVENESS_PROBE_FAILURES and self.available:
                # Keep the subscriptions: if it was the network and not the device, the
                # reconnect unsubscribes them once the device answers again.
                self._cancel_timers()
                self._set_unavailable(
                    f"no answer to {self.probe_failures} liveness probes: {err!r}"
                )
                self._schedule_retry()
            return
        self.probe_failures = 0
        if self._closed or sid not in self.subscriptions:
            return  # a reconnect or unload overtook the probe
        if not 400 <= response.status_code < 500:
            # 200: there and subscribed. 5xx: there, but "unable to accept renewal" for
            # now (our agent with all its connections busy); the scheduled renewal copes.
            self._probe_refused = response.status_code >= 500 and self._probe_refused
            return
        if self._probe_refused:
            # Refused right after fresh subscriptions too: a device that does not renew,
            # not one that forgot us. Its answer is enough to know it is there.
            return
        self._probe_refused = True
        _LOGGER.info(
            "%s no longer holds our subscription (HTTP %s to a renewal); subscribing again",
            self.device.friendly_name,
            response.status_code,
        )
        await self.async_reconnect(force=True)

    # -- availability -------------------------------------------------------------------
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
        self._backoff = RECONNECT_BACKOFF_INITIAL_S
        self.probe_failures = 0
        self._notify_all()

    @callback
    def _schedule_retry(self) -> None:
        if self._closed or self._retry_cancel is not None:
            return
        delay = self._backoff
        self._backoff = min(self._backoff * 2, RECONNECT_BACKOFF_MAX_S)
        self._retry_cancel = async_call_later(self.hass, delay, self._async_retry)

    async def _async_retry(self, _now: Any) -> None:
        self._retry_cancel = None
        await self.async_reconnect()

    async def async_reconnect(self, *, force: bool = False) -> bool:
        """Fresh subscriptions after a reboot, a byebye or a failure; backoff on failure.

        `force` reconnects an available device too (it answered that it lost our
        subscriptions).
        """
        wanted_boot_id = self.boot_id
        async with self._reconnect_lock:
            if self._closed:
                return False
            if not force and self.available and self._connected_boot_id == wanted_boot_id:
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
            await self._async_unsubscribe_all()
            self._forget_subscriptions()
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
                self._forget_subscriptions()
                self._set_unavailable(f"reconnect failed: {err!r}")
                self._schedule_retry()
                return False
            self._connected_boot_id = wanted_boot_id
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

    async def _async_on_ssdp(self, info: SsdpServiceInfo, change: SsdpChange) -> None:
        """ssdp:alive / ssdp:byebye / ssdp:update from the device (any of its USNs)."""
        server = notify_server_pool(self.hass).server_for(self.local_ip)
        names = server.names if server is not None else {}
        if not is_from_device(info, self.device.device_url, names):
            device_requester(self.hass).counters.foreign_announcements += 1
            _LOGGER.debug(
                "Ignoring %s for %s from %s: not the device's address",
                change.name,
                self.udn,
                log(announcement_source(info)),
            )
            return
        boot_id = _boot_id(info.ssdp_headers)
        if change is SsdpChange.UPDATE:
            # The device announces its next BOOTID (UDA 1.1 section 1.2.4): adopt it so
            # the alive that follows is not taken for a reboot.
            next_boot_id = _boot_id(info.ssdp_headers, ssdp.ATTR_SSDP_NEXTBOOTID)
            if self.boot_id is not None and boot_id == self.boot_id:
                self.boot_id = next_boot_id
            return
        if change is SsdpChange.BYEBYE:
            self._cancel_timers()
            self._forget_subscriptions()
            self._set_unavailable("ssdp:byebye")
            return
        rebooted = boot_id is not None and self.boot_id is not None and boot_id != self.boot_id
        if boot_id is not None:
            self.boot_id = boot_id
            if self.paired is not None:
                # Sign with the new boot id from the start (no refusal to learn it from).
                self.paired.learn_boot_id(boot_id)
        if rebooted:
            _LOGGER.info("%s rebooted (BOOTID %s)", self.device.friendly_name, boot_id)
        if rebooted or not self.available:
            await self._async_ssdp_reconnect()
        elif self._connected_boot_id is None:
            self._connected_boot_id = self.boot_id

    async def _async_ssdp_reconnect(self) -> None:
        """Reconnect for an announcement, at most once per RESUBSCRIBE_MIN_INTERVAL_S."""
        now = time.monotonic()
        last = self._ssdp_reconnected_at
        if last is not None and now - last < RESUBSCRIBE_MIN_INTERVAL_S:
            if self._ssdp_reconnect_cancel is None and not self._closed:
                self._ssdp_reconnect_cancel = async_call_later(
                    self.hass, RESUBSCRIBE_MIN_INTERVAL_S - (now - last), self._async_deferred
                )
            return
        self._ssdp_reconnected_at = now
        await self.async_reconnect()

    async def _async_deferred(self, _now: Any) -> None:
        self._ssdp_reconnect_cancel = None
        self._ssdp_reconnected_at = time.monotonic()
        await self.async_reconnect()


def _boot_id(headers: Mapping[str, Any], key: str = ssdp.ATTR_SSDP_BOOTID) -> int | None:
    try:
        return int(str(headers[key]), 10)
    except KeyError, ValueError:
        return None


async def async_local_ip_for(location: str, hass: HomeAssistant) -> str:
    """The local address the kernel routes to the device: where it must send NOTIFY."""
    _family, local_ip = await async_get_local_ip(location, hass.loop)
    return local_ip


def open_mode_issue_id(entry_id: str) -> str:
    """Repair issue of an agent entry that runs in open mode."""
    return f"agent_open_mode_{entry_id}"
