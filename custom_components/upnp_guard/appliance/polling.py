"""The polling fallback: state of the services a device would not let us subscribe to.

Devices that refuse SUBSCRIBE (no GENA, or a full subscriber table: our agent answers
503 beyond its places) are read through their getter actions every POLL_INTERVAL_S, and
the polls then tell liveness. Every SUBSCRIBE_RETRY_POLLS polls the refused services are
offered a subscription again (a full table frees up as other subscriptions expire); once
all of them are subscribed, polling stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from async_upnp_client.client import UpnpAction, UpnpDevice, UpnpService
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from ..const import DOMAIN
from ..pending import Pending
from ..transport import TRANSPORT_ERRORS
from .const import POLL_INTERVAL_S, REQUEST_TIMEOUT_S, SUBSCRIBE_RETRY_POLLS


def getter_actions(service: UpnpService) -> list[UpnpAction]:
    """Actions that take no input and report state variables: how state is polled."""
    return [
        action
        for action in service.actions.values()
        if not action.in_arguments() and action.out_arguments()
    ]


class StatePoller:
    """Reads the refused services on a timer, and offers them a subscription now and then."""

    def __init__(
        self,
        hass: HomeAssistant,
        device: UpnpDevice,
        control_lock: asyncio.Lock,
        *,
        is_available: Callable[[], bool],
        subscribe: Callable[[UpnpService], Awaitable[bool]],
        on_subscribed: Callable[[], None],
        on_read: Callable[[UpnpService], None],
        on_failure: Callable[[str], None],
    ) -> None:
        """`subscribe(service)`: True when the device now accepts the subscription;
        `on_subscribed()`: some were accepted (renewals and probes to schedule);
        `on_read(service)`: a poll read the service; `on_failure(reason)`: a poll failed."""
        self.hass = hass
        self.device = device
        self.control_lock = control_lock
        self._is_available = is_available
        self._subscribe = subscribe
        self._on_subscribed = on_subscribed
        self._on_read = on_read
        self._on_failure = on_failure
        self.services: list[UpnpService] = []
        self._timer = Pending()
        self._count = 0

    async def async_start(self) -> None:
        """Poll `services` now, then every POLL_INTERVAL_S (no-op when there are none)."""
        if not self.services:
            return
        await self._async_poll()
        if not self._timer.running:
            self._count = 0
            self._timer.start(
                async_track_time_interval(
                    self.hass,
                    self._async_poll_interval,
                    timedelta(seconds=POLL_INTERVAL_S),
                    name=f"{DOMAIN} poll {self.device.udn}",
                )
            )

    @callback
    def stop(self) -> None:
        """No more polls until the next start."""
        self._timer.cancel()

    async def _async_poll_interval(self, _now: Any) -> None:
        self._count += 1
        if self._is_available() and self._count % SUBSCRIBE_RETRY_POLLS == 0:
            for service in list(self.services):
                with contextlib.suppress(*TRANSPORT_ERRORS):
                    if await self._subscribe(service):
                        self.services.remove(service)
            self._on_subscribed()
            if not self.services and self._timer.running:
                self.stop()
                return
        await self._async_poll()

    async def _async_poll(self) -> None:
        for service in self.services:
            try:
                await self.async_read(service)
            except TRANSPORT_ERRORS as err:
                self._on_failure(f"poll failed: {err!r}")
                return
            self._on_read(service)

    async def async_read(self, service: UpnpService) -> None:
        """Read a service's state through its getter actions (stored in its variables)."""
        for action in getter_actions(service):
            async with self.control_lock, asyncio.timeout(REQUEST_TIMEOUT_S):
                result = await action.async_call()
            for argument in action.out_arguments():
                if argument.name in result:
                    argument.related_state_variable.value = result[argument.name]
