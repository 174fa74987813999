# The asyncio shell: owns the SSDP socket, the HTTP server, NOTIFY connections and the
# timers; every protocol decision is made by the sans-IO core (app, ssdp, gena).
import asyncio
import gc
import socket
import struct

from . import http, limits, log
from .compat import ticks_diff, ticks_ms

_SSDP_GROUP = "239.255.255.250"
_WRITE_BATCH = 1024  # coalesce small description chunks into fewer TCP segments


def _wait_readable(sock):
    # MicroPython asyncio has no datagram endpoints: park on the poller like its streams do.
    yield asyncio.core._io_queue.queue_read(sock)


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
        self.ssdp_sock = None
        self.server = None
        self._stopping = asyncio.Event()
        self._event_wake = asyncio.Event()
        agent.gena.on_pending = self._event_wake.set
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
            "subscriptions": len(self.agent.gena.subscriptions),
            "subscriptions_dropped": self.agent.gena.dropped,
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
    async def _read_request(self, reader):
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

    async def _client(self, reader, writer):
        self.connections += 1
        self.peak_connections = max(self.peak_connections, self.connections)
        try:
            if self.connections > limits.HTTP_MAX_CONNECTIONS:
                self.agent.count(503)
                await self._write(writer, http.Response(503, [("RETRY-AFTER", "1")]))
                return
            peer_ip, _ = _sockaddr(writer.get_extra_info("peername"))
            request = None
            try:
                request = await self._read_request(reader)
                if request is None:
                    return
                response = self.agent.handle(request, peer_ip)
            except http.HttpError as err:
                self.agent.count(err.status)
                log.debug("http", err.status, err.detail, peer_ip)
                response = http.Response(err.status)
            except MemoryError:
                gc.collect()
                response = http.Response(503)
            self.sample_heap()
            await asyncio.wait_for_ms(self._write(writer, response), limits.HTTP_READ_DEADLINE_MS)
            log.debug("http", peer_ip, request.method if request else "-", response.status)
            if response.after is not None:
                response.after()
                self._event_wake.set()
        except Exception as err:  # a broken client must never take the server down
            log.warning("http client error", type(err).__name__, err)
        finally:
            self.connections -= 1
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass
            self.sample_heap()

    # -- GENA ------------------------------------------------------------------------
    async def _deliver(self, sub):
        ok = False
        writer = None
        try:
            ip, port, data = self.agent.gena.take(sub)
            reader, writer = await asyncio.wait_for_ms(
                asyncio.open_connection(ip, port), limits.GENA_NOTIFY_TIMEOUT_MS
            )
            writer.write(data)
            data = None
            await asyncio.wait_for_ms(writer.drain(), limits.GENA_NOTIFY_TIMEOUT_MS)
            status = await asyncio.wait_for_ms(reader.read(16), limits.GENA_NOTIFY_TIMEOUT_MS)
            ok = status.startswith(b"HTTP/1.") and status[9:10] == b"2"
            log.debug("notify", ip, port, "seq", sub.seq - 1, status[:12])
        except Exception as err:
            log.debug("notify failed", type(err).__name__, err)
        finally:
            if writer is not None:
                try:
                    writer.close()
                    await writer.wait_closed()
                except Exception:
                    pass
            before = len(self.agent.gena.subscriptions)
            self.agent.gena.delivered(sub, ok)
            if len(self.agent.gena.subscriptions) < before:
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
                    # Counted against GENA_MAX_NOTIFY_IN_FLIGHT before the task first runs.
                    sub.in_flight = True
                    asyncio.create_task(self._deliver(sub))
            except Exception as err:
                log.error("event loop", type(err).__name__, err)

    # -- lifecycle -------------------------------------------------------------------
    async def _housekeeping(self):
        while True:
            self.hal.feed_watchdog()
            self.sample_heap()
            await asyncio.sleep_ms(1000)

    async def run(self):
        self.open_ssdp()
        self.server = await asyncio.start_server(self._client, "0.0.0.0", self.port, backlog=4)
        log.info("http listening on", self.agent.location)
        tasks = [
            asyncio.create_task(self._ssdp_receiver()),
            asyncio.create_task(self._ssdp_replier()),
            asyncio.create_task(self._events()),
            asyncio.create_task(self._event_ticker()),
            asyncio.create_task(self._housekeeping()),
        ]
        await self.announce("alive")
        tasks.append(asyncio.create_task(self._reannounce()))
        for coro in self.hal.platform_tasks():
            tasks.append(asyncio.create_task(coro))
        # Always printed, whatever the log level: the test harness waits for this line.
        print("[I] agent ready", self.agent.root.udn, "bootid", self.agent.announcer.boot_id)
        await self._stopping.wait()
        await self.announce("byebye")
        for task in tasks:
            task.cancel()
        self.server.close()
        self.ssdp_sock.close()
        log.info("agent stopped")
