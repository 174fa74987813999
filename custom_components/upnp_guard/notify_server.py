"""One GENA notify server: which NOTIFYs reach a subscription, for every entry kind.

The server (one per local address, notify.py) is a `UpnpNotifyServer` of our own in
front of async-upnp-client's public `UpnpEventHandler.handle_notify`, because the
library's server would take any NOTIFY from anyone: it reads the whole body (up to
aiohttp's 1 MiB) before looking at it and keeps a NOTIFY for an unknown SID in a backlog
that is never purged, so any LAN host could fill Home Assistant's memory. Here, before
the body is read:

- the SID must be one of our subscriptions, and the NOTIFY must come from the address of
  the device that holds it (the host of its event URL; for a host name the user typed,
  an address it resolved to when we subscribed); else 412, counted;
- the body may be at most MAX_NOTIFY_BYTES (Content-Length, then while reading); else 413;
- a NOTIFY for a SID we do not know yet is kept only while we are subscribing to a
  service of the sender (the initial event may overtake the SUBSCRIBE answer, UDA 1.1
  section 4.2.1), at most NOTIFY_BACKLOG_MAX of them for NOTIFY_BACKLOG_MAX_AGE_S, and
  replayed once the answer names that SID from that address. The library's own backlog
  is never used: an unknown SID never reaches handle_notify;
- a NOTIFY for a subscription to a paired agent must carry a valid UG-AUTH with a SEQ
  above the last one taken (paired.py, agent_auth.EventVerifier); else 412, counted per
  agent and reason.

Before any of that, each connection is admitted under caps and given a deadline
(notify_guard.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from time import monotonic
from typing import override
from xml.etree.ElementTree import ParseError

import aiohttp.web
from async_upnp_client.client import UpnpRequester, UpnpService
from async_upnp_client.const import HttpRequest, ServiceId
from async_upnp_client.event_handler import UpnpEventHandler, UpnpNotifyServer

from .const import (
    MAX_NOTIFY_BYTES,
    MAX_RESOLVED_ADDRESSES,
    NAME_RESOLVE_TIMEOUT_S,
    NOTIFY_BACKLOG_MAX,
    NOTIFY_BACKLOG_MAX_AGE_S,
)
from .lan_text import get_logger
from .notify_guard import ConnectionCaps, GuardedConnection
from .paired import PairedAgents
from .transport import ip_literal, url_host

_LOGGER = get_logger(__name__)


@dataclass(slots=True)
class NotifyCounters:
    """NOTIFYs answered without reaching a service, since Home Assistant started."""

    unknown_sid: int = 0
    wrong_source: int = 0
    too_large: int = 0
    malformed: int = 0
    backlogged: int = 0
    backlog_replayed: int = 0
    backlog_dropped: int = 0
    connections_refused: int = 0
    connections_expired: int = 0


def same_address(host: str, peer: str | None, names: Mapping[str, frozenset[str]]) -> bool:
    """Whether a NOTIFY from `peer` comes from `host`, the host of the event URL.

    `host` is an IP literal, or a name the user typed, compared with the addresses it
    resolved to when we subscribed (`names`).
    """
    if not peer:
        return False
    peer_ip = ip_literal(peer.split("%", 1)[0])
    host_ip = ip_literal(host.split("%", 1)[0])
    if host_ip is None:
        return peer_ip is not None and str(peer_ip) in names.get(host, frozenset())
    return peer_ip == host_ip


async def async_resolve(host: str) -> frozenset[str]:
    """The addresses a typed host name stands for (empty when it does not resolve)."""
    try:
        async with asyncio.timeout(NAME_RESOLVE_TIMEOUT_S):
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError, TimeoutError:
        return frozenset()
    return frozenset(str(info[4][0]) for info in infos[:MAX_RESOLVED_ADDRESSES])


@dataclass(slots=True)
class _Backlogged:
    request: HttpRequest
    peer: str
    at: float  # monotonic()


class GuardedEventHandler(UpnpEventHandler):
    """The library's event handler, told which devices we are subscribing to right now."""

    def __init__(self, notify_server: GuardedNotifyServer, requester: UpnpRequester) -> None:
        super().__init__(notify_server, requester)
        self._server = notify_server

    @override
    async def async_subscribe(
        self, service: UpnpService, timeout: timedelta = timedelta(seconds=1800)
    ) -> tuple[ServiceId, timedelta]:
        """Subscribe; an early NOTIFY for the new SID from the device is replayed after."""
        host = url_host(service.event_sub_url)
        if ip_literal(host) is None:
            self._server.names[host] = await async_resolve(host)
        self._server.subscribing[host] += 1
        try:
            sid, granted = await super().async_subscribe(service, timeout)
            await self._server.async_replay(sid, host)
        finally:
            self._server.subscribing[host] -= 1
            if self._server.subscribing[host] <= 0:
                del self._server.subscribing[host]
            self._server.purge()
        return sid, granted


class GuardedNotifyServer(UpnpNotifyServer):
    """A notify server that lets through only our devices' events (module docstring)."""

    def __init__(
        self,
        requester: UpnpRequester,
        local_ip: str,
        counters: NotifyCounters,
        agents: PairedAgents | None = None,
    ) -> None:
        self._local_ip = local_ip
        self._agents = agents or PairedAgents()
        self._port = 0
        self.counters = counters
        self.caps = ConnectionCaps(counters)
        self._web: aiohttp.web.Server | None = None
        self._server: asyncio.Server | None = None
        # Hosts with a SUBSCRIBE in flight, and NOTIFYs waiting for its answer.
        self.subscribing: Counter[str] = Counter()
        # Typed host names of event URLs -> the addresses they resolved to.
        self.names: dict[str, frozenset[str]] = {}
        self._backlog: dict[str, _Backlogged] = {}
        self.event_handler = GuardedEventHandler(self, requester)

    @property
    @override
    def callback_url(self) -> str:
        """The URL devices are given in CALLBACK."""
        host = f"[{self._local_ip}]" if ":" in self._local_ip else self._local_ip
        return f"http://{host}:{self._port}/notify"

    @override
    async def async_start_server(self) -> None:
        """Listen on the local address (a free port)."""
        # No lingering: a body we refused unread is not drained (up to 10 s by
        # default, any size); the connection is closed instead.
        web = self._web = aiohttp.web.Server(self._async_handle, lingering_time=0)
        self._server = await asyncio.get_running_loop().create_server(
            lambda: GuardedConnection(web(), self.caps), self._local_ip, 0
        )
        self._port = self._server.sockets[0].getsockname()[1]

    @property
    def open_connections(self) -> int:
        """Connections admitted and not closed yet."""
        return self.caps.open_connections

    @override
    async def async_stop_server(self) -> None:
        """Cancel the subscriptions still held and stop listening."""
        await self.event_handler.async_unsubscribe_all()
        if self._web is not None:
            await self._web.shutdown(10)
            self._web = None
        if self._server is not None:
            self._server.close()
            self._server = None
        self._backlog.clear()

    async def _async_handle(self, request: aiohttp.web.BaseRequest) -> aiohttp.web.Response:
        return aiohttp.web.Response(status=await self._async_answer(request))

    async def _async_answer(self, request: aiohttp.web.BaseRequest) -> HTTPStatus:
        """Check sender and SID before the body is read; then deliver or backlog it."""
        if request.method != "NOTIFY":
            return HTTPStatus.METHOD_NOT_ALLOWED
        sid = request.headers.get("SID", "")
        peer = request.remote or ""
        if (refused := self._refusal(sid, peer)) is not None:
            return refused
        raw = await self._async_read_body(request)
        if raw is None:
            self.counters.too_large += 1
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        body = raw.decode(request.charset or "utf-8", errors="replace")
        http_request = HttpRequest("NOTIFY", self.callback_url, request.headers, body)
        # Checked again: the SUBSCRIBE answer may have come while the body was read.
        if self.event_handler.service_for_sid(sid) is None:
            self._store(sid, http_request, peer)
            return HTTPStatus.OK
        if (refused := self._refusal(sid, peer)) is not None:
            return refused
        return await self._async_deliver(http_request, raw)

    def _authentic(self, sid: str, headers: Mapping[str, str], body: bytes) -> bool:
        """False for an event of a paired agent that does not verify (counted there)."""
        service = self.event_handler.service_for_sid(sid)
        agent = None if service is None else self._agents.for_url(service.event_sub_url)
        if agent is None:
            return True
        reason = agent.verifier.check(headers, body)
        if reason is None:
            return True
        if agent.reject(reason):
            agent.on_burst()
        _LOGGER.debug("Dropped a NOTIFY of a paired agent: %s", reason)
        return False

    def _refusal(self, sid: str, peer: str) -> HTTPStatus | None:
        """412 for a NOTIFY we do not take from `peer` (counted); None to read it."""
        service = self.event_handler.service_for_sid(sid)
        if service is None:
            if not peer or not self._may_backlog(peer):
                self.counters.unknown_sid += 1
                return HTTPStatus.PRECONDITION_FAILED
        elif not same_address(url_host(service.event_sub_url), peer, self.names):
            self.counters.wrong_source += 1
            return HTTPStatus.PRECONDITION_FAILED
        return None

    async def _async_read_body(self, request: aiohttp.web.BaseRequest) -> bytes | None:
        """The body, or None when it is over MAX_NOTIFY_BYTES (nothing kept)."""
        length = request.content_length
        if length is not None and length > MAX_NOTIFY_BYTES:
            return None
        body = bytearray()
        async for chunk in request.content.iter_any():
            body += chunk
            if len(body) > MAX_NOTIFY_BYTES:
                return None
        return bytes(body)

    async def _async_deliver(self, http_request: HttpRequest, raw: bytes) -> HTTPStatus:
        """Hand an event to its service (412 for a paired agent's that does not verify)."""
        if not self._authentic(http_request.headers.get("SID", ""), http_request.headers, raw):
            return HTTPStatus.PRECONDITION_FAILED
        try:
            return await self.event_handler.handle_notify(http_request)
        except (ParseError, ValueError) as err:  # defusedxml refusals are ValueErrors
            self.counters.malformed += 1
            _LOGGER.debug("Dropped a NOTIFY whose body is no property set: %r", err)
            return HTTPStatus.BAD_REQUEST

    # -- the backlog of NOTIFYs that overtook their SUBSCRIBE answer -------------------
    def purge(self) -> None:
        """Drop early NOTIFYs too old, or from a host no longer being subscribed to."""
        now = monotonic()
        for sid, entry in list(self._backlog.items()):
            if now - entry.at > NOTIFY_BACKLOG_MAX_AGE_S or not any(
                same_address(host, entry.peer, self.names) for host in self.subscribing
            ):
                del self._backlog[sid]
                self.counters.backlog_dropped += 1

    @property
    def backlog_size(self) -> int:
        """NOTIFYs waiting for their SUBSCRIBE answer."""
        return len(self._backlog)

    def _may_backlog(self, peer: str) -> bool:
        self.purge()
        return any(same_address(host, peer, self.names) for host in self.subscribing) and (
            len(self._backlog) < NOTIFY_BACKLOG_MAX
        )

    def _store(self, sid: str, http_request: HttpRequest, peer: str) -> None:
        if sid not in self._backlog and len(self._backlog) >= NOTIFY_BACKLOG_MAX:
            self.counters.unknown_sid += 1  # the backlog filled while this one was read
            return
        self._backlog[sid] = _Backlogged(http_request, peer, monotonic())
        self.counters.backlogged += 1

    async def async_replay(self, sid: str, host: str) -> None:
        """The SUBSCRIBE answer named `sid`: deliver its early NOTIFY if `host` sent one."""
        self.purge()
        entry = self._backlog.pop(sid, None)
        if entry is not None and same_address(host, entry.peer, self.names):
            self.counters.backlog_replayed += 1
            await self._async_deliver(entry.request, str(entry.request.body or "").encode())
        elif entry is not None:
            self.counters.wrong_source += 1
