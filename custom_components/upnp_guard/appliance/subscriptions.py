"""An appliance's GENA subscriptions: subscribe, tell first events from live ones, renew.

The protocol side (SUBSCRIBE, renew, UNSUBSCRIBE, the renewal rule) is ../gena.py, shared
with routers. This is the appliance's use of it: a refusal is an answer (the service is
polled instead, polling.py), the first event of a new subscription is a resync rather
than a live change, and the renewal timer; a failed renewal goes to the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from async_upnp_client.client import UpnpDevice, UpnpService, UpnpStateVariable
from async_upnp_client.exceptions import UpnpResponseError
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ..gena import GenaSubscriptions
from ..lan_text import get_logger
from ..notify import GENA_ERRORS
from ..pending import Pending
from .const import POLL_INTERVAL_S

_LOGGER = get_logger(__name__)


class ApplianceSubscriptions:
    """The subscriptions of one appliance entry and their renewal timer."""

    def __init__(
        self,
        hass: HomeAssistant,
        device: UpnpDevice,
        gena: GenaSubscriptions,
        *,
        is_closed: Callable[[], bool],
        on_event: Callable[[UpnpService, bool], None],
        on_renewal_failed: Callable[[Exception], None],
    ) -> None:
        """`on_event(service, resync)`: a NOTIFY updated the service's state variables;
        `on_renewal_failed(err)`: the device refused a renewal (the subscriptions are
        forgotten by then)."""
        self.hass = hass
        self.device = device
        self.gena = gena
        self._is_closed = is_closed
        self._on_event = on_event
        self._on_renewal_failed = on_renewal_failed
        self.event_count = 0
        # Services whose next event is the initial one of a new subscription.
        self._resync_pending: set[str] = set()
        self._renewal = Pending()

    async def async_subscribe(self, service: UpnpService) -> bool:
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

    @callback
    def _on_service_event(
        self, service: UpnpService, _variables: Sequence[UpnpStateVariable[Any]]
    ) -> None:
        """A NOTIFY for one of our subscriptions was parsed into the state variables."""
        self.event_count += 1
        key = service.service_id + service.device.udn
        resync = key in self._resync_pending
        self._resync_pending.discard(key)
        self._on_event(service, resync)

    @callback
    def forget(self) -> None:
        """Drop subscriptions a gone or rebooted device no longer holds: a NOTIFY with an
        old SID must not update state any more (gena.py)."""
        self.gena.forget_all()

    @callback
    def schedule_renewal(self) -> None:
        """Renew by the renewal rule (gena.py), from now on."""
        self.cancel_renewal()
        delay = self.gena.next_renewal_s()
        if delay is None or self._is_closed():
            return
        self._renewal.start(async_call_later(self.hass, delay, self._async_renew))

    @callback
    def cancel_renewal(self) -> None:
        """No renewal until the next schedule_renewal()."""
        self._renewal.cancel()

    async def _async_renew(self, _now: Any) -> None:
        self._renewal.ran()
        try:
            await self.gena.async_renew_all()
        except GENA_ERRORS as err:
            self.forget()
            self._on_renewal_failed(err)
            return
        self.schedule_renewal()
