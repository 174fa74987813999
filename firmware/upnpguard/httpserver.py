# The HTTP side of the shell: the listening socket, our own accept loop, admission of
# connections (global and per-peer caps, eviction of a peer's idle connection), reading
# one bounded request per connection and writing its response in batches. What to answer
# is the core's decision (core.handle_request / core.refuse).
import asyncio
import gc
import socket

from . import http, limits, log
from .compat import ticks_diff, ticks_ms
from .sockio import sockaddr, wait_readable

_WRITE_BATCH = 1024  # coalesce small description chunks into fewer TCP segments
_BACKLOG = 4  # connections the kernel holds while the accept loop is busy or restarting
_ACCEPT_PAUSE_MS = 50  # after a failed accept (no socket left): do not spin


class HttpServer:
    def __init__(self, core, sample_heap):
        self.core = core
        self.sample_heap = sample_heap  # the shell's heap high-water mark
        self.connections = 0
        self.peak_connections = 0
        self.evicted = 0  # idle connections closed for a newer one of the same peer
        self.listener = None
        self._conns = []  # admitted connections (_Connection), at most HTTP_MAX_CONNECTIONS

    def stats(self):
        return {
            "connections": self.connections,
            "connections_peak": self.peak_connections,
            "connections_evicted": self.evicted,
        }

    def open(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo("0.0.0.0", self.core.port)[0][-1])
        sock.listen(_BACKLOG)
        sock.setblocking(False)
        self.listener = sock

    def close(self):
        self.listener.close()

    async def accept_loop(self):
        # Our own accept loop, not asyncio.start_server: that one's loop ends for good on
        # its first exception (a MemoryError while a connection arrives), and every later
        # connection is reset while the watchdog is still fed. Here a failure closes that
        # one connection and ends the loop, which its supervisor restarts.
        listener = self.listener
        while True:
            await wait_readable(listener)
            try:
                sock, raw = listener.accept()
            except OSError:  # the peer gave up already, or no socket left (ENFILE)
                await asyncio.sleep_ms(_ACCEPT_PAUSE_MS)
                continue
            try:
                sock.setblocking(False)
                self._serve(sock, sockaddr(raw)[0])
            except Exception:
                sock.close()
                raise

    def _serve(self, sock, peer):
        conn = self._admit(peer, sock, ticks_ms())
        try:
            stream = asyncio.StreamReader(sock)
            task = asyncio.create_task(self._client(stream, peer, conn))
        except Exception:
            if conn is not None:
                self._forget(conn)
            raise
        if conn is not None:
            conn.task = task

    def _admit(self, peer, sock, now):
        """Room for a new connection from `peer`: its _Connection, or None (answer 503).

        A peer at HTTP_MAX_CONNECTIONS_PER_PEER loses its connection idle the longest
        (still reading its request, no byte for HTTP_IDLE_MS) to the new one; with none
        idle, the new one gets 503. So does any beyond HTTP_MAX_CONNECTIONS.
        """
        conns = self._conns
        mine = 0
        idle = None
        for conn in conns:
            if conn.peer == peer:
                mine += 1
                if (
                    conn.reading
                    and ticks_diff(now, conn.last) >= limits.HTTP_IDLE_MS
                    and (idle is None or ticks_diff(conn.last, idle.last) < 0)
                ):
                    idle = conn
        if mine >= limits.HTTP_MAX_CONNECTIONS_PER_PEER:
            if idle is None:
                return None
            self._evict(idle)
        elif len(conns) >= limits.HTTP_MAX_CONNECTIONS:
            return None
        conn = _Connection(peer, sock, now)
        conns.append(conn)
        return conn

    def _evict(self, conn):
        self._forget(conn)
        self.evicted += 1
        log.debug("http evicted idle connection of", conn.peer)
        if conn.task is not None:
            conn.task.cancel()  # its finally closes the socket
        if not conn.started:
            conn.sock.close()  # a task cancelled before it ran runs no finally

    def _forget(self, conn):
        if conn in self._conns:
            self._conns.remove(conn)

    async def _read_request(self, reader, conn):
        parser = http.RequestParser()
        start = ticks_ms()
        while True:
            left = limits.HTTP_READ_DEADLINE_MS - ticks_diff(ticks_ms(), start)
            if left <= 0:
                raise http.HttpError(408, "deadline")
            try:
                data = await asyncio.wait_for_ms(reader.read(parser.wants()), left)  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
            except asyncio.TimeoutError:
                raise http.HttpError(408, "deadline")
            if not data:
                return None
            conn.last = ticks_ms()
            request = parser.feed(data)
            if request is not None:
                return request

    async def _write(self, writer, response):
        length = response.content_length()
        head = http.build_head(response.status, response.headers, length, self.core.server)
        # One fixed batch buffer per response, no larger than the response: a growing
        # bytearray reallocates, and on a small heap a contiguous ~1 KB block is what
        # fragmentation denies first. A small response (SOAP, GENA, errors) leaves in one
        # write, head and body together.
        if len(head) > _WRITE_BATCH:  # (heads are a few hundred bytes)
            writer.write(head)
            await writer.drain()
            head = b""
        buf = bytearray(min(_WRITE_BATCH, len(head) + length))
        view = memoryview(buf)
        used = len(head)
        buf[:used] = head
        del head
        for chunk in response.chunks():
            size = len(chunk)
            if used + size > len(buf) and used:
                writer.write(view[:used])
                await writer.drain()
                used = 0
            if size > len(buf):
                writer.write(chunk)
                await writer.drain()
                continue
            buf[used : used + size] = chunk
            used += size
        if used:
            writer.write(view[:used])
            await writer.drain()

    async def _client(self, stream, peer_ip, conn):
        """One connection; `conn` None: refused (503). Cancelled when evicted."""
        self.connections += 1
        self.peak_connections = max(self.peak_connections, self.connections)
        core = self.core
        try:
            if conn is None:
                await asyncio.wait_for_ms(  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
                    self._write(stream, core.refuse(503, [("RETRY-AFTER", "1")])),
                    limits.HTTP_READ_DEADLINE_MS,
                )
                return
            conn.started = True
            request = None
            try:
                request = await self._read_request(stream, conn)
                if request is None:
                    return
                conn.reading = False
                response = core.handle_request(request, peer_ip)
            except http.HttpError as err:
                log.debug("http", err.status, err.detail, peer_ip)
                response = core.refuse(err.status)
            except MemoryError:
                gc.collect()
                response = http.Response(503)
            conn.reading = False
            self.sample_heap()
            written = False
            try:
                await asyncio.wait_for_ms(  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
                    self._write(stream, response), limits.HTTP_READ_DEADLINE_MS
                )
                written = True
            finally:
                # A SUBSCRIBE whose response could not be written is released here.
                if response.after is not None:
                    response.after(written)
            log.debug("http", peer_ip, request.method if request else "-", response.status)
        except Exception as err:  # a broken client must never take the server down
            try:
                log.warning("http client error", type(err).__name__, err)
            except MemoryError:
                pass
        finally:
            self.connections -= 1
            if conn is not None:
                self._forget(conn)
            try:
                await stream.wait_closed()
            except Exception:
                pass
            self.sample_heap()


class _Connection:
    """An admitted HTTP connection: who, its socket and task, when it last received
    request bytes, and whether it still waits for its request (only then idle)."""

    def __init__(self, peer, sock, now):
        self.peer = peer
        self.sock = sock
        self.task = None
        self.started = False
        self.last = now
        self.reading = True
