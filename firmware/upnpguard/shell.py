# The asyncio shell: owns the SSDP socket, the HTTP server, NOTIFY connections and the
# timers; every protocol decision is made by the sans-IO core (app, ssdp, gena).
import asyncio
import errno
import gc
import socket
import struct

from . import http, limits, log
from .compat import ticks_diff, ticks_ms

_SSDP_GROUP = "239.255.255.250"
_WRITE_BATCH = 1024  # coalesce small description chunks into fewer TCP segments
_BACKLOG = 4  # connections the kernel holds while the accept loop is busy or restarting
_ACCEPT_PAUSE_MS = 50  # after a failed accept (no socket left): do not spin


def _wait_readable(sock):
    # MicroPython asyncio has no datagram endpoints: park on the poller like its streams do.
    return _wait(sock, 0)


def _wait_writable(sock):
    return _wait(sock, 1)


def _wait(sock, idx):
    io = asyncio.core._io_queue
    try:
        yield io.queue_read(sock) if idx == 0 else io.queue_write(sock)
    except MemoryError:
        # On a full heap, queue_read/queue_write can fail after recording this task in
        # the IO map but before registering the socket with the poller; that stale entry
        # would fail every later wait on this (long-lived) socket. Remove it.
        entry = io.map.get(id(sock))
        if entry is not None and entry[idx] is asyncio.current_task():
            entry[idx] = None
            if entry[1 - idx] is None:
                del io.map[id(sock)]
                try:
                    io.poller.unregister(sock)
                except Exception:
                    pass
        raise


def _sockaddr(raw):
    """MicroPython returns a raw sockaddr_in: port at 2..4 (big endian), IPv4 at 4..8."""
    if isinstance(raw, tuple):
        return raw[0], raw[1]
    port = struct.unpack(">H", bytes(raw[2:4]))[0]
    return "{}.{}.{}.{}".format(raw[4], raw[5], raw[6], raw[7]), port


class Shell:
    def __init__(self, agent, hal, port):
        self.agent = agent
        self.hal = hal
        self.port = port
        self.connections = 0
        self.peak_heap = 0
        self.peak_connections = 0
        self.evicted = 0  # idle connections closed for a newer one of the same peer
        self.notifies_cancelled = 0  # deliveries of subscriptions removed meanwhile
        self.restarts = 0  # supervised tasks restarted
        self.failures = {}  # supervised task -> failures in a row (while it has any)
        self.task_errors = 0  # detached tasks that ended with an exception
        self.gave_up = None  # the task that could not be restarted: watchdog not fed
        self.ssdp_sock = None
        self.listener = None
        self._conns = []  # admitted connections (_Connection), at most HTTP_MAX_CONNECTIONS
        self._stopping = asyncio.Event()
        self._event_wake = asyncio.Event()
        agent.gena.on_pending = self._event_wake.set
        agent.gena.on_removed = self._cancel_delivery
        hal.stop_requested = self._stopping.set
        hal.stats = self.stats

    def sample_heap(self):
        used = gc.mem_alloc()
        if used > self.peak_heap:
            self.peak_heap = used

    def stats(self):
        responder = self.agent.responder
        gc.collect()
        return {
            "heap_live": gc.mem_alloc(),
            "heap_peak": self.peak_heap,
            "heap_free": gc.mem_free(),
            "connections": self.connections,
            "connections_peak": self.peak_connections,
            "connections_evicted": self.evicted,
            "subscriptions": len(self.agent.gena.subscriptions),
            "subscriptions_dropped": self.agent.gena.dropped,
            "subscriptions_released": self.agent.gena.released,
            "notify_in_flight": self.agent.gena.in_flight,
            "notify_in_flight_peak": self.agent.gena.in_flight_peak,
            "notify_cancelled": self.notifies_cancelled,
            "task_restarts": self.restarts,
            "task_failures": self.failures,
            "task_errors": self.task_errors,
            "watchdog_fed": self.gave_up is None,
            "refused": dict((str(k), v) for k, v in self.agent.refused.items()),
            "ssdp_bytes_in": responder.bytes_in,
            "ssdp_bytes_out": responder.bytes_out,
            "ssdp_dropped_foreign": responder.dropped_foreign,
            "ssdp_dropped_invalid": responder.dropped_invalid,
            "ssdp_dropped_busy": responder.dropped_busy,
            "ssdp_dropped_budget": responder.dropped_budget,
            "ssdp_sources": len(responder.sources),
        }

    # -- SSDP ------------------------------------------------------------------------
    def open_ssdp(self):
        hal = self.hal
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo("0.0.0.0", 1900)[0][-1])
        own = socket.inet_pton(socket.AF_INET, self.agent.ip)
        group = socket.inet_pton(socket.AF_INET, _SSDP_GROUP)
        sock.setsockopt(hal.IPPROTO_IP, hal.IP_ADD_MEMBERSHIP, group + own)
        if hal.MULTICAST_TTL_SUPPORTED:
            sock.setsockopt(hal.IPPROTO_IP, hal.IP_MULTICAST_TTL, limits.SSDP_MULTICAST_TTL)
            sock.setsockopt(hal.IPPROTO_IP, hal.IP_MULTICAST_IF, own)
        sock.setblocking(False)
        self.ssdp_sock = sock
        self._group_addr = socket.getaddrinfo(_SSDP_GROUP, 1900)[0][-1]

    def _send(self, datagram, addr):
        try:
            self.ssdp_sock.sendto(datagram, addr)
        except OSError as err:  # a full send buffer drops this datagram, nothing more
            log.debug("ssdp send failed", err)

    async def announce(self, kind="alive"):
        for round_ in range(limits.SSDP_ALIVE_REPEAT):
            messages = (
                self.agent.announcer.alive() if kind == "alive" else self.agent.announcer.byebye()
            )
            for datagram in messages:
                self._send(datagram, self._group_addr)
            if round_ + 1 < limits.SSDP_ALIVE_REPEAT:
                await asyncio.sleep_ms(limits.SSDP_ALIVE_SPACING_MS)
        log.info("ssdp", kind, "sent")

    async def _ssdp_receiver(self):
        sock = self.ssdp_sock
        responder = self.agent.responder
        while True:
            await _wait_readable(sock)
            # A bounded batch, then back to the poller: under a flood the socket never runs
            # dry, and a loop that reads until it does starves HTTP, GENA and the watchdog
            # feed (an ESP32 would reboot, and write BOOTID to flash, over and over).
            for _ in range(limits.SSDP_RECEIVE_BATCH):
                try:
                    data, raw = sock.recvfrom(limits.SSDP_DATAGRAM_MAX + 1)
                except OSError:
                    break
                ip, port = _sockaddr(raw)
                responder.datagram(data, ip, port)
                data = None

    async def _ssdp_replier(self):
        responder = self.agent.responder
        while True:
            sent = 0
            for ip, port, datagram in responder.due():
                self._send(datagram, socket.getaddrinfo(ip, port)[0][-1])
                datagram = None
                sent += 1
                if sent % limits.SSDP_RECEIVE_BATCH == 0:
                    await asyncio.sleep_ms(0)  # up to 16 full answers are due at once
            wait = responder.next_due_ms()
            await asyncio.sleep_ms(50 if wait is None else max(5, min(wait, 50)))

    async def _reannounce(self):
        while True:
            await asyncio.sleep_ms(limits.SSDP_REANNOUNCE_MS)
            await self.announce("alive")

    # -- HTTP ------------------------------------------------------------------------
    def open_http(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo("0.0.0.0", self.port)[0][-1])
        sock.listen(_BACKLOG)
        sock.setblocking(False)
        self.listener = sock

    async def _accept(self):
        # Our own accept loop, not asyncio.start_server: that one's loop ends for good on
        # its first exception (a MemoryError while a connection arrives), and every later
        # connection is reset while the watchdog is still fed. Here a failure closes that
        # one connection and ends the loop, which its supervisor restarts.
        listener = self.listener
        while True:
            await _wait_readable(listener)
            try:
                sock, raw = listener.accept()
            except OSError:  # the peer gave up already, or no socket left (ENFILE)
                await asyncio.sleep_ms(_ACCEPT_PAUSE_MS)
                continue
            try:
                sock.setblocking(False)
                self._serve(sock, _sockaddr(raw)[0])
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
                data = await asyncio.wait_for_ms(reader.read(parser.wants()), left)
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
        head = http.build_head(response.status, response.headers, length, self.agent.server)
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
        try:
            if conn is None:
                self.agent.count(503)
                await asyncio.wait_for_ms(
                    self._write(stream, http.Response(503, [("RETRY-AFTER", "1")])),
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
                response = self.agent.handle(request, peer_ip)
            except http.HttpError as err:
                self.agent.count(err.status)
                log.debug("http", err.status, err.detail, peer_ip)
                response = http.Response(err.status)
            except MemoryError:
                gc.collect()
                response = http.Response(503)
            conn.reading = False
            self.sample_heap()
            written = False
            try:
                await asyncio.wait_for_ms(
                    self._write(stream, response), limits.HTTP_READ_DEADLINE_MS
                )
                written = True
            finally:
                # A SUBSCRIBE whose response could not be written is released here.
                if response.after is not None:
                    response.after(written)
                    if written:
                        self._event_wake.set()
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

    # -- GENA ------------------------------------------------------------------------
    def _cancel_delivery(self, sub):
        # gena calls this when it removes a subscription with a NOTIFY in flight: the
        # delivery is cancelled and its socket closed now, not after its timeouts.
        task = sub.delivery
        if task is not None:
            sub.delivery = None
            self.notifies_cancelled += 1
            task.cancel()

    async def _deliver(self, sub, ip, port, data):
        ok = False
        sock = None
        gena = self.agent.gena
        try:
            if sub not in gena.subscriptions:
                return  # removed before this task first ran
            sub.delivery = asyncio.current_task()
            # Our own connect, not asyncio.open_connection: that one leaks its socket when
            # it is cancelled or times out while connecting.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.connect(socket.getaddrinfo(ip, port)[0][-1])
            except OSError as err:
                if err.errno != errno.EINPROGRESS:
                    raise
            await asyncio.wait_for_ms(_wait_writable(sock), limits.GENA_NOTIFY_TIMEOUT_MS)
            stream = asyncio.StreamReader(sock)
            stream.write(data)
            data = None
            await asyncio.wait_for_ms(stream.drain(), limits.GENA_NOTIFY_TIMEOUT_MS)
            status = await asyncio.wait_for_ms(stream.read(16), limits.GENA_NOTIFY_TIMEOUT_MS)
            ok = status.startswith(b"HTTP/1.") and status[9:10] == b"2"
            log.debug("notify", ip, port, "seq", sub.seq - 1, status[:12])
        except Exception as err:
            try:
                log.debug("notify failed", type(err).__name__, err)
            except MemoryError:
                pass
        finally:
            sub.delivery = None
            data = None
            if sock is not None:
                sock.close()
            before = len(gena.subscriptions)
            gena.delivered(sub, ok)
            if len(gena.subscriptions) < before:
                log.warning("subscription dropped after failed NOTIFYs", log.short_sid(sub.sid))
            self.sample_heap()
            self._event_wake.set()

    async def _event_ticker(self):
        # Wakes the delivery loop for expiry and moderated events. (wait_for around
        # Event.wait() is avoided: a cancelled waiter can swallow a later set().)
        while True:
            await asyncio.sleep_ms(250)
            self._event_wake.set()

    async def _events(self):
        gena = self.agent.gena
        while True:
            await self._event_wake.wait()
            self._event_wake.clear()
            try:
                gena.expire()
                for sub in gena.ready():
                    # Taken (and counted against GENA_MAX_NOTIFY_IN_FLIGHT) before the task
                    # first runs; a task that cannot be made gives the NOTIFY back.
                    ip, port, data = gena.take(sub)
                    try:
                        asyncio.create_task(self._deliver(sub, ip, port, data))
                    except Exception:
                        gena.delivered(sub, False)
                        raise
            except MemoryError:
                raise  # the supervisor collects and restarts this loop
            except Exception as err:
                log.error("event loop", type(err).__name__, err)

    # -- lifecycle -------------------------------------------------------------------
    async def _supervise(self, name, factory):
        """Run `factory()` (a long-lived loop) and restart it when it fails, MemoryError
        included, after a pause that doubles; after TASK_RESTARTS_MAX failures in a row
        give up: the watchdog is no longer fed and the board reboots. A loop that
        returns has finished its job (the unix control channel when stdin closes)."""
        failures = 0
        while True:
            started = ticks_ms()
            failure = None
            try:
                await factory()
                return
            except Exception as err:  # CancelledError is no Exception: stop goes through
                failure = type(err).__name__
                err = None
            # The heap may still be full: below, anything that allocates (a dict entry, a
            # call with *args, a log line) is guarded, or the supervisor itself dies.
            gc.collect()
            if ticks_diff(ticks_ms(), started) >= limits.TASK_HEALTHY_MS:
                failures = 0
            failures += 1
            self.restarts += 1
            if failures > limits.TASK_RESTARTS_MAX:
                self.gave_up = name
                try:
                    log.error("task", name, failure, "cannot be restarted: watchdog not fed")
                except MemoryError:
                    pass
                return
            try:
                self.failures[name] = failures
                log.error("task", name, failure, "restart", failures)
            except MemoryError:
                pass
            await asyncio.sleep_ms(limits.TASK_RESTART_PAUSE_MS << (failures - 1))

    def _task_exception(self, loop, context):
        # A detached task (a client, a delivery) ended with an exception nobody awaited:
        # count it. asyncio's default handler prints, which raises again on a full heap,
        # and an exception out of the scheduler stops the whole agent.
        self.task_errors += 1

    async def _housekeeping(self):
        while True:
            # The board's watchdog reboots it when the agent cannot serve any more.
            if self.gave_up is None:
                self.hal.feed_watchdog()
            self.sample_heap()
            await asyncio.sleep_ms(1000)

    async def run(self):
        asyncio.get_event_loop().set_exception_handler(self._task_exception)
        self.open_ssdp()
        self.open_http()
        log.info("http listening on", self.agent.location)
        supervise = self._supervise
        tasks = [
            asyncio.create_task(supervise("accept", self._accept)),
            asyncio.create_task(supervise("ssdp-receiver", self._ssdp_receiver)),
            asyncio.create_task(supervise("ssdp-replier", self._ssdp_replier)),
            asyncio.create_task(supervise("events", self._events)),
            asyncio.create_task(supervise("event-ticker", self._event_ticker)),
            asyncio.create_task(self._housekeeping()),
        ]
        await self.announce("alive")
        tasks.append(asyncio.create_task(supervise("reannounce", self._reannounce)))
        for name, factory in self.hal.platform_tasks():
            tasks.append(asyncio.create_task(supervise(name, factory)))
        # Always printed, whatever the log level: the test harness waits for this line.
        print("[I] agent ready", self.agent.root.udn, "bootid", self.agent.announcer.boot_id)
        await self._stopping.wait()
        await self.announce("byebye")
        for task in tasks:
            task.cancel()
        self.listener.close()
        self.ssdp_sock.close()
        log.info("agent stopped")


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
