"""The connection guard in front of every GENA notify server (notify_server.py).

aiohttp itself puts no deadline on reading a request's headers or body: a host trickling
bytes over many connections would otherwise hold sockets and memory for as long as it
likes. So each connection is admitted under caps, at most NOTIFY_CONNECTIONS_PER_PEER from
one address and NOTIFY_CONNECTIONS_MAX in all (refused ones are aborted before aiohttp
sees them, and counted), and closed after NOTIFY_CONNECTION_MAX_S whatever it is doing
(counted). This is the transport level; what a NOTIFY must be is notify_server.py's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, override

from .const import NOTIFY_CONNECTION_MAX_S, NOTIFY_CONNECTIONS_MAX, NOTIFY_CONNECTIONS_PER_PEER

if TYPE_CHECKING:
    from .notify_server import NotifyCounters


class ConnectionCaps:
    """Open connections per peer, under NOTIFY_CONNECTIONS_PER_PEER and NOTIFY_CONNECTIONS_MAX."""

    def __init__(self, counters: NotifyCounters) -> None:
        self.counters = counters
        self._connections: Counter[str] = Counter()  # open connections per peer

    def admit(self, peer: str) -> bool:
        """Count a new connection from `peer`, or refuse it (over a cap; counted)."""
        if (
            not peer
            or self._connections[peer] >= NOTIFY_CONNECTIONS_PER_PEER
            or self._connections.total() >= NOTIFY_CONNECTIONS_MAX
        ):
            self.counters.connections_refused += 1
            return False
        self._connections[peer] += 1
        return True

    def release(self, peer: str) -> None:
        """A connection admitted by `admit` closed."""
        self._connections[peer] -= 1
        if self._connections[peer] <= 0:
            del self._connections[peer]

    @property
    def open_connections(self) -> int:
        """Connections admitted and not closed yet."""
        return self._connections.total()


def _abort(transport: asyncio.BaseTransport) -> None:
    """Close at once, unsent data dropped (a stream server's transports can abort)."""
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:
        transport.close()


class GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, admitted under the caps and with a deadline.

    Every protocol callback is passed on to aiohttp's handler; a connection over a cap
    is aborted before the handler ever sees it.
    """

    def __init__(self, inner: asyncio.Protocol, caps: ConnectionCaps) -> None:
        self._inner = inner
        self._caps = caps
        self._peer: str | None = None  # set once admitted
        self._deadline: asyncio.TimerHandle | None = None

    @override
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peername = transport.get_extra_info("peername")
        peer = str(peername[0]) if peername else ""
        if not self._caps.admit(peer):
            _abort(transport)
            return
        self._peer = peer
        self._deadline = asyncio.get_running_loop().call_later(
            NOTIFY_CONNECTION_MAX_S, self._expire, transport
        )
        self._inner.connection_made(transport)

    def _expire(self, transport: asyncio.BaseTransport) -> None:
        self._caps.counters.connections_expired += 1
        _abort(transport)

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        if self._peer is None:
            return  # refused: aiohttp never saw it
        if self._deadline is not None:
            self._deadline.cancel()
        self._caps.release(self._peer)
        self._peer = None
        self._inner.connection_lost(exc)

    @override
    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    @override
    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    @override
    def pause_writing(self) -> None:
        self._inner.pause_writing()

    @override
    def resume_writing(self) -> None:
        self._inner.resume_writing()
