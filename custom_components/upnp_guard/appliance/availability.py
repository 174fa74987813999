"""Whether an appliance is still there: liveness probes, and the backoff between reconnects.

A device that dies without a word (power cut, crash) sends no ssdp:byebye. While we hold
subscriptions, one of them is renewed every LIVENESS_PROBE_INTERVAL_S as a probe, and
LIVENESS_PROBE_FAILURES unanswered probes in a row make the device unavailable until a
reconnect succeeds. Reconnects after a failure are retried with exponential backoff,
from RECONNECT_BACKOFF_INITIAL_S up to RECONNECT_BACKOFF_MAX_S, reset by a success.
Devices whose state is polled show their liveness by answering the polls (polling.py).

The connection (connection.py) owns the availability flag; these helpers only decide
when to look and report what they saw through the callbacks they are built with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from async_upnp_client.client import UpnpDevice
from async_upnp_client.const import HttpRequest
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval

from ..const import DOMAIN, SUBSCRIPTION_TIMEOUT_S
from ..gena import GenaSubscriptions
from ..lan_text import get_logger
from ..pending import Pending
from ..transport import TRANSPORT_ERRORS
from .const import (
    LIVENESS_PROBE_FAILURES,
    LIVENESS_PROBE_INTERVAL_S,
    LIVENESS_PROBE_TIMEOUT_S,
    RECONNECT_BACKOFF_INITIAL_S,
    RECONNECT_BACKOFF_MAX_S,
)

_LOGGER = get_logger(__name__)


class ReconnectBackoff:
    """One pending retry at a time, each waiting twice as long as the one before."""

    def __init__(self, hass: HomeAssistant, retry: Callable[[], Awaitable[object]]) -> None:
        self.hass = hass
        self._retry = retry
        self.delay_s: float = RECONNECT_BACKOFF_INITIAL_S
        self._timer = Pending()

    @callback
    def schedule(self) -> None:
        """Retry after the current delay (no-op while a retry is pending)."""
        if self._timer.running:
            return
        delay = self.delay_s
        self.delay_s = min(self.delay_s * 2, RECONNECT_BACKOFF_MAX_S)
        self._timer.start(async_call_later(self.hass, delay, self._async_fire))

    @callback
    def reset(self) -> None:
        """A success: the next failure waits the initial delay again."""
        self.delay_s = RECONNECT_BACKOFF_INITIAL_S

    @callback
    def cancel(self) -> None:
        """Drop the pending retry, if any."""
        self._timer.cancel()

    async def _async_fire(self, _now: Any) -> None:
        self._timer.ran()
        await self._retry()


class LivenessProbe:
    """Renews one subscription at a time, round robin, to learn the device is there."""

    def __init__(
        self,
        hass: HomeAssistant,
        device: UpnpDevice,
        gena: GenaSubscriptions,
        *,
        may_probe: Callable[[], bool],
        is_closed: Callable[[], bool],
        on_silent: Callable[[str], None],
        on_forgotten: Callable[[], Awaitable[object]],
    ) -> None:
        """`may_probe`: whether a probe makes sense now (available, no reconnect running);
        `on_silent(reason)`: LIVENESS_PROBE_FAILURES probes went unanswered;
        `on_forgotten()`: the device answered that it no longer holds our subscription."""
        self.hass = hass
        self.device = device
        self.gena = gena
        self._may_probe = may_probe
        self._is_closed = is_closed
        self._on_silent = on_silent
        self._on_forgotten = on_forgotten
        self._timer = Pending()
        # Unanswered probes in a row, and whose turn it is to be renewed.
        self.failures = 0
        self._turn = 0
        # A probe was refused and we resubscribed; refused again, the device just does
        # not renew (the scheduled renewal falls back to fresh SUBSCRIBEs for those).
        self._refused = False

    @callback
    def start(self) -> None:
        """Probe while subscribed (polled devices show their liveness by answering polls)."""
        if self._timer.running or not self.gena or self._is_closed():
            return
        self.failures = 0
        self._timer.start(
            async_track_time_interval(
                self.hass,
                self._async_probe,
                timedelta(seconds=LIVENESS_PROBE_INTERVAL_S),
                name=f"{DOMAIN} liveness {self.device.udn}",
            )
        )

    @callback
    def stop(self) -> None:
        """No more probes until the next start()."""
        self._timer.cancel()

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
        if self._is_closed() or not self._may_probe() or not self.gena:
            return
        self._turn += 1
        sids = list(self.gena.active)
        sid = sids[self._turn % len(sids)]
        event_url = self.gena.active[sid].service.event_sub_url
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
            self.failures += 1
            _LOGGER.debug(
                "%s did not answer liveness probe %s/%s: %r",
                self.device.friendly_name,
                self.failures,
                LIVENESS_PROBE_FAILURES,
                err,
            )
            if self.failures >= LIVENESS_PROBE_FAILURES:
                self._on_silent(f"no answer to {self.failures} liveness probes: {err!r}")
            return
        self.failures = 0
        if self._is_closed() or sid not in self.gena.active:
            return  # a reconnect or unload overtook the probe
        if not 400 <= response.status_code < 500:
            # 200: there and subscribed. 5xx: there, but "unable to accept renewal" for
            # now (our agent with all its connections busy); the scheduled renewal copes.
            self._refused = response.status_code >= 500 and self._refused
            return
        if self._refused:
            # Refused right after fresh subscriptions too: a device that does not renew,
            # not one that forgot us. Its answer is enough to know it is there.
            return
        self._refused = True
        _LOGGER.info(
            "%s no longer holds our subscription (HTTP %s to a renewal); subscribing again",
            self.device.friendly_name,
            response.status_code,
        )
        await self._on_forgotten()
