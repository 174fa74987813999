"""GENA notify servers: where devices send their events (NOTIFY), for every entry kind.

One server per local address (as core's dlna_dmr binds it to the address routed to the
device), shared by the appliances and routers reached through it, started on first use
and stopped with its last device. What a server lets through is notify_server.py's, how
it guards its connections notify_guard.py's; this module is the pool the entries use,
and the errors a GENA exchange ends with.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any, Final

from async_upnp_client.event_handler import UpnpEventHandler
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .lan_text import get_logger
from .notify_server import GuardedNotifyServer, NotifyCounters
from .paired import RoutingRequester, paired_agents
from .transport import TRANSPORT_ERRORS, device_requester

_LOGGER = get_logger(__name__)

# Subscribing, renewing or cancelling fails as any request does, or with KeyError when the
# event handler no longer knows the SID (both kinds: appliance/connection.py, router/events.py).
GENA_ERRORS: Final[tuple[type[Exception], ...]] = (*TRANSPORT_ERRORS, KeyError)

NOTIFY_SERVERS: HassKey[NotifyServerPool] = HassKey(f"{DOMAIN}_notify_servers")


class NotifyServerPool:
    """One notify server per local address, shared by the devices routed through it."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._lock = asyncio.Lock()
        self._servers: dict[str, GuardedNotifyServer] = {}
        self._users: dict[str, int] = {}
        self.counters = NotifyCounters()
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop_all)

    async def async_acquire(self, local_ip: str) -> UpnpEventHandler:
        """The event handler whose callback URL is on `local_ip` (started on first use)."""
        async with self._lock:
            server = self._servers.get(local_ip)
            if server is None:
                agents = paired_agents(self._hass)
                server = GuardedNotifyServer(
                    RoutingRequester(device_requester(self._hass), agents),
                    local_ip,
                    self.counters,
                    agents,
                )
                await server.async_start_server()
                self._servers[local_ip] = server
                _LOGGER.debug("GENA notify server listening at %s", server.callback_url)
            self._users[local_ip] = self._users.get(local_ip, 0) + 1
            return server.event_handler

    async def async_release(self, local_ip: str) -> None:
        """Stop the server on `local_ip` once its last device is gone."""
        async with self._lock:
            self._users[local_ip] -= 1
            if self._users[local_ip] > 0:
                return
            del self._users[local_ip]
            server = self._servers.pop(local_ip)
            await server.async_stop_server()

    async def _async_stop_all(self, _event: Event) -> None:
        async with self._lock:
            servers = list(self._servers.values())
            self._servers.clear()
            self._users.clear()
        await asyncio.gather(*(server.async_stop_server() for server in servers))

    def server_for(self, local_ip: str) -> GuardedNotifyServer | None:
        """The server listening on `local_ip`, if one is."""
        return self._servers.get(local_ip)

    def diagnostics(self) -> dict[str, Any]:
        """Drop counters for diagnostics."""
        return asdict(self.counters)


def notify_server_pool(hass: HomeAssistant) -> NotifyServerPool:
    """The integration's notify server pool (created when the first device connects)."""
    if (pool := hass.data.get(NOTIFY_SERVERS)) is None:
        pool = hass.data[NOTIFY_SERVERS] = NotifyServerPool(hass)
    return pool
