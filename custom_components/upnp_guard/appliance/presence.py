"""What an appliance's SSDP announcements say: there, gone, or rebooted.

ssdp:byebye makes the device unavailable at once; ssdp:alive brings it back with fresh
subscriptions, and so does a new BOOTID.UPNP.ORG (the device rebooted and forgot its
subscribers, UDA 1.1 section 1.2.2); ssdp:update announces the next BOOTID (section
1.2.4). Announcements count only when they come from the device's own address (the host
of its location; any LAN host can forge one with the device's UDN): others are ignored
and counted (foreign_announcements in the transport counters). Reconnects for
announcements happen at most once every RESUBSCRIBE_MIN_INTERVAL_S; a burst leaves one
scheduled for later.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from async_upnp_client.client import UpnpDevice
from homeassistant.components import ssdp
from homeassistant.components.ssdp.scanner import SsdpChange
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from ..const import RESUBSCRIBE_MIN_INTERVAL_S
from ..lan_text import get_logger, log
from ..location import announcement_source, is_from_device
from ..notify import notify_server_pool
from ..pending import Pending
from ..transport import device_requester

_LOGGER = get_logger(__name__)


class SsdpPresence:
    """The device's BOOTID as announced, and the reconnects its announcements call for."""

    def __init__(
        self,
        hass: HomeAssistant,
        device: UpnpDevice,
        local_ip: str,
        *,
        is_available: Callable[[], bool],
        is_closed: Callable[[], bool],
        on_boot_id: Callable[[int], None],
        on_byebye: Callable[[], None],
        reconnect: Callable[[], Awaitable[object]],
    ) -> None:
        """`on_boot_id(boot_id)`: an alive carried a BOOTID (a paired agent signs with it);
        `on_byebye()`: the device said it leaves; `reconnect()`: subscribe afresh."""
        self.hass = hass
        self.device = device
        self.local_ip = local_ip
        self._is_available = is_available
        self._is_closed = is_closed
        self._on_boot_id = on_boot_id
        self._on_byebye = on_byebye
        self._reconnect = reconnect
        # The BOOTID last announced, and the one our current subscriptions were made under
        # (the connection sets it when a reconnect succeeds).
        self.boot_id: int | None = None
        self.connected_boot_id: int | None = None
        self._listening = Pending()
        # When an announcement last made us reconnect, and a reconnect it deferred.
        self._reconnected_at: float | None = None
        self._deferred = Pending()

    async def async_start(self) -> None:
        """Listen to the announcements of every USN of the device."""
        self._listening.start(
            await ssdp.async_register_callback(
                self.hass, self._async_on_ssdp, {"_udn": self.device.udn}
            )
        )

    @callback
    def stop(self) -> None:
        """Stop listening (entry unload)."""
        self.cancel_deferred()
        self._listening.cancel()

    @callback
    def cancel_deferred(self) -> None:
        """Drop a reconnect the rate limit put off."""
        self._deferred.cancel()

    async def _async_on_ssdp(self, info: SsdpServiceInfo, change: SsdpChange) -> None:
        """ssdp:alive / ssdp:byebye / ssdp:update from the device (any of its USNs)."""
        server = notify_server_pool(self.hass).server_for(self.local_ip)
        names = server.names if server is not None else {}
        if not is_from_device(info, self.device.device_url, names):
            device_requester(self.hass).counters.foreign_announcements += 1
            _LOGGER.debug(
                "Ignoring %s for %s from %s: not the device's address",
                change.name,
                self.device.udn,
                log(announcement_source(info)),
            )
            return
        boot_id = parse_boot_id(info.ssdp_headers)
        if change is SsdpChange.UPDATE:
            # The device announces its next BOOTID (UDA 1.1 section 1.2.4): adopt it so
            # the alive that follows is not taken for a reboot.
            next_boot_id = parse_boot_id(info.ssdp_headers, ssdp.ATTR_SSDP_NEXTBOOTID)
            if self.boot_id is not None and boot_id == self.boot_id:
                self.boot_id = next_boot_id
            return
        if change is SsdpChange.BYEBYE:
            self._on_byebye()
            return
        rebooted = boot_id is not None and self.boot_id is not None and boot_id != self.boot_id
        if boot_id is not None:
            self.boot_id = boot_id
            self._on_boot_id(boot_id)
        if rebooted:
            _LOGGER.info("%s rebooted (BOOTID %s)", self.device.friendly_name, boot_id)
        if rebooted or not self._is_available():
            await self._async_rate_limited_reconnect()
        elif self.connected_boot_id is None:
            self.connected_boot_id = self.boot_id

    async def _async_rate_limited_reconnect(self) -> None:
        """Reconnect for an announcement, at most once per RESUBSCRIBE_MIN_INTERVAL_S."""
        now = time.monotonic()
        last = self._reconnected_at
        if last is not None and now - last < RESUBSCRIBE_MIN_INTERVAL_S:
            if not self._deferred.running and not self._is_closed():
                self._deferred.start(
                    async_call_later(
                        self.hass, RESUBSCRIBE_MIN_INTERVAL_S - (now - last), self._async_deferred
                    )
                )
            return
        self._reconnected_at = now
        await self._reconnect()

    async def _async_deferred(self, _now: Any) -> None:
        self._deferred.ran()
        self._reconnected_at = time.monotonic()
        await self._reconnect()


def parse_boot_id(headers: Mapping[str, Any], key: str = ssdp.ATTR_SSDP_BOOTID) -> int | None:
    """A BOOTID.UPNP.ORG-style header as a decimal integer; None when absent or malformed."""
    try:
        return int(str(headers[key]), 10)
    except KeyError, ValueError:
        return None
