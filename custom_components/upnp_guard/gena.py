"""The GENA subscriptions one entry holds on its device, for both entry kinds
(appliance/subscriptions.py, router/events.py): subscribe, renew, unsubscribe, forget, and the
one renewal rule. What to do when they fail (poll, go unavailable, subscribe afresh) stays
with the kind.

Only async-upnp-client's public UpnpEventHandler API is used. Forgetting a subscription
without waiting for the device relies on `async_unsubscribe` dropping the SID from the
handler before it sends anything (its first statement before any await):
tests/appliance/test_gena.py fails if a release changes that.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from async_upnp_client.client import UpnpService, UpnpStateVariable
from async_upnp_client.event_handler import UpnpEventHandler
from homeassistant.core import HomeAssistant, callback

from .const import (
    MIN_SUBSCRIPTION_RENEW_DELAY,
    RENEWAL_MARGIN_S,
    SUBSCRIPTION_RENEW_FRACTION,
    SUBSCRIPTION_TIMEOUT_S,
)
from .notify import GENA_ERRORS

SUBSCRIPTION_TIMEOUT = timedelta(seconds=SUBSCRIPTION_TIMEOUT_S)

type EventCallback = Callable[[UpnpService, Sequence[UpnpStateVariable[Any]]], None]


@dataclass(slots=True)
class Subscription:
    """One GENA subscription we hold on a device."""

    sid: str
    service: UpnpService
    expires_at: float  # time.monotonic()


def renewal_delay(remaining_s: float) -> float:
    """The renewal rule: at SUBSCRIPTION_RENEW_FRACTION of the time left and at least
    RENEWAL_MARGIN_S before the end (one lost renewal leaves time for another), never
    sooner than MIN_SUBSCRIPTION_RENEW_DELAY (a device granting a tiny timeout must not
    make us renew in a tight loop)."""
    return max(
        MIN_SUBSCRIPTION_RENEW_DELAY,
        min(remaining_s - RENEWAL_MARGIN_S, remaining_s * SUBSCRIPTION_RENEW_FRACTION),
    )


class GenaSubscriptions:
    """The subscriptions of one entry, by SID."""

    def __init__(self, hass: HomeAssistant, handler: UpnpEventHandler) -> None:
        self.hass = hass
        self.handler = handler
        self.active: dict[str, Subscription] = {}

    def __bool__(self) -> bool:
        return bool(self.active)

    async def async_subscribe(self, service: UpnpService, on_event: EventCallback) -> str:
        """Subscribe to `service` (its events go to `on_event`); the SID. Raises what the
        handler raises: UpnpResponseError for a refusal, GENA_ERRORS for the rest."""
        service.on_event = on_event
        sid, timeout = await self.handler.async_subscribe(service, timeout=SUBSCRIPTION_TIMEOUT)
        self.active[sid] = Subscription(sid, service, time.monotonic() + timeout.total_seconds())
        return sid

    async def async_renew_all(self) -> None:
        """Renew every subscription (a device may hand out a new SID). Raises GENA_ERRORS
        at the first one the device refuses; those renewed so far are kept."""
        for sid, subscription in list(self.active.items()):
            new_sid, timeout = await self.handler.async_resubscribe(
                sid, timeout=SUBSCRIPTION_TIMEOUT
            )
            del self.active[sid]
            self.active[new_sid] = Subscription(
                new_sid, subscription.service, time.monotonic() + timeout.total_seconds()
            )

    async def async_unsubscribe_all(self) -> None:
        """UNSUBSCRIBE each one (errors ignored: the device may be gone) and forget them."""
        sids = list(self.active)
        self.active.clear()
        for sid in sids:
            with contextlib.suppress(*GENA_ERRORS):
                await self.handler.async_unsubscribe(sid)

    @callback
    def forget_all(self) -> None:
        """Drop every subscription now, without waiting for the device: a NOTIFY with one
        of their SIDs no longer changes anything. The UNSUBSCRIBE goes out in the
        background (a rebooted device answers 412, a gone one times out)."""
        sids = list(self.active)
        self.active.clear()
        for sid in sids:
            # Started eagerly: the handler drops the SID before its first await.
            self.hass.async_create_background_task(
                self._async_drop(sid), f"upnp_guard unsubscribe {sid}", eager_start=True
            )

    async def _async_drop(self, sid: str) -> None:
        with contextlib.suppress(*GENA_ERRORS):
            await self.handler.async_unsubscribe(sid)

    def next_renewal_s(self) -> float | None:
        """Seconds until the next renewal is due (the rule above for the subscription
        that runs out first); None without subscriptions."""
        if not self.active:
            return None
        now = time.monotonic()
        return min(renewal_delay(sub.expires_at - now) for sub in self.active.values())
