# The asyncio shell around the sans-IO core (core.py): it owns the sockets, the tasks and
# the timers, and asks the core what to do through its verbs. Here: the SSDP socket, the
# NOTIFY deliveries, the long-lived tasks and their supervision, the watchdog feed and the
# stats; the HTTP server is httpserver.py.
import asyncio
import errno
import gc
import socket

from . import limits, log
from .compat import ticks_diff, ticks_ms
from .httpserver import HttpServer
from .ipv4 import ip_to_bytes
from .sockio import sockaddr, wait_readable, wait_writable
from .ssdp import SSDP_GROUP, SSDP_PORT


class Shell:
    def __init__(self, core, hal):
        self.core = core
        self.hal = hal
        self.http = HttpServer(core, self.sample_heap)
        self.peak_heap = 0
        self.notifies_cancelled = 0  # deliveries of subscriptions removed meanwhile
        self.restarts = 0  # supervised tasks restarted
        self.failures = {}  # supervised task -> failures in a row (while it has any)
        self.task_errors = 0  # detached tasks that ended with an exception
        self.gave_up = None  # the task that could not be restarted: watchdog not fed
        self.ssdp_sock = None
        self._group_addr = None
        # NOTIFY deliveries running now: subscription -> its task. Only the shell touches
        # this; the core counts what is in flight.
        self._deliveries = {}
        self._stopping = asyncio.Event()
        self._event_wake = asyncio.Event()
        core.listen(self._event_wake.set, self._cancel_delivery)
        hal.stop_requested = self._stopping.set
        hal.stats = self.stats

    def sample_heap(self):
        used = gc.mem_alloc()
        if used > self.peak_heap:
            self.peak_heap = used

    def stats(self):
        gc.collect()
        out = {
            "heap_live": gc.mem_alloc(),
            "heap_peak": self.peak_heap,
            "heap_free": gc.mem_free(),
            "notify_cancelled": self.notifies_cancelled,
            "task_restarts": self.restarts,
            "task_failures": self.failures,
            "task_errors": self.task_errors,
            "watchdog_fed": self.gave_up is None,
        }
        out.update(self.http.stats())
        out.update(self.core.stats())
        return out

    # -- SSDP ------------------------------------------------------------------------
    def open_ssdp(self):
        hal = self.hal
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo("0.0.0.0", SSDP_PORT)[0][-1])
        # Not socket.inet_pton: the ESP32 port's socket module has none (the ESP32 stubs
        # type check in scripts/lint found it).
        own = ip_to_bytes(self.core.ip)
        group = ip_to_bytes(SSDP_GROUP)
        sock.setsockopt(hal.IPPROTO_IP, hal.IP_ADD_MEMBERSHIP, group + own)
        if hal.MULTICAST_TTL_SUPPORTED:
            sock.setsockopt(hal.IPPROTO_IP, hal.IP_MULTICAST_TTL, limits.SSDP_MULTICAST_TTL)
            sock.setsockopt(hal.IPPROTO_IP, hal.IP_MULTICAST_IF, own)
        sock.setblocking(False)
        self.ssdp_sock = sock
        self._group_addr = socket.getaddrinfo(SSDP_GROUP, SSDP_PORT)[0][-1]

    def _send(self, datagram, addr):
        try:
            self.ssdp_sock.sendto(datagram, addr)
        except OSError as err:  # a full send buffer drops this datagram, nothing more
            log.debug("ssdp send failed", err)

    async def announce(self, kind="alive"):
        for round_ in range(limits.SSDP_ALIVE_REPEAT):
            for datagram in self.core.announcements(kind):
                self._send(datagram, self._group_addr)
            if round_ + 1 < limits.SSDP_ALIVE_REPEAT:
                await asyncio.sleep_ms(limits.SSDP_ALIVE_SPACING_MS)
        log.info("ssdp", kind, "sent")

    async def _ssdp_receiver(self):
        sock = self.ssdp_sock
        core = self.core
        while True:
            await wait_readable(sock)
            # A bounded batch, then back to the poller: under a flood the socket never runs
            # dry, and a loop that reads until it does starves HTTP, GENA and the watchdog
            # feed (an ESP32 would reboot, and write BOOTID to flash, over and over).
            for _ in range(limits.SSDP_RECEIVE_BATCH):
                try:
                    data, raw = sock.recvfrom(limits.SSDP_DATAGRAM_MAX + 1)
                except OSError:
                    break
                ip, port = sockaddr(raw)
                core.handle_datagram(data, ip, port)
                data = None

    async def _ssdp_replier(self):
        core = self.core
        while True:
            sent = 0
            for ip, port, datagram in core.outgoing():
                self._send(datagram, socket.getaddrinfo(ip, port)[0][-1])
                datagram = None
                sent += 1
                if sent % limits.SSDP_RECEIVE_BATCH == 0:
                    await asyncio.sleep_ms(0)  # up to 16 full answers are due at once
            wait = core.next_deadline_ms()
            await asyncio.sleep_ms(50 if wait is None else max(5, min(wait, 50)))

    async def _reannounce(self):
        while True:
            await asyncio.sleep_ms(limits.SSDP_REANNOUNCE_MS)
            await self.announce("alive")

    # -- GENA ------------------------------------------------------------------------
    def _cancel_delivery(self, sub):
        # The core calls this when it removes a subscription with a NOTIFY in flight: the
        # delivery is cancelled and its socket closed now, not after its timeouts. One
        # whose task has not run yet finds the subscription gone when it starts.
        task = self._deliveries.pop(sub, None)
        if task is not None:
            self.notifies_cancelled += 1
            task.cancel()

    async def _deliver(self, sub, ip, port, data):
        ok = False
        sock = None
        core = self.core
        try:
            if not core.notify_wanted(sub):
                return  # removed before this task first ran
            self._deliveries[sub] = asyncio.current_task()
            # Our own connect, not asyncio.open_connection: that one leaks its socket when
            # it is cancelled or times out while connecting.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.connect(socket.getaddrinfo(ip, port)[0][-1])
            except OSError as err:
                if err.errno != errno.EINPROGRESS:
                    raise
            await asyncio.wait_for_ms(wait_writable(sock), limits.GENA_NOTIFY_TIMEOUT_MS)  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
            stream = asyncio.StreamReader(sock)
            stream.write(data)  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
            data = None
            await asyncio.wait_for_ms(stream.drain(), limits.GENA_NOTIFY_TIMEOUT_MS)  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
            status = await asyncio.wait_for_ms(stream.read(16), limits.GENA_NOTIFY_TIMEOUT_MS)  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
            ok = status.startswith(b"HTTP/1.") and status[9:10] == b"2"
            log.debug("notify", ip, port, "seq", sub.seq - 1, status[:12])
        except Exception as err:
            try:
                log.debug("notify failed", type(err).__name__, err)
            except MemoryError:
                pass
        finally:
            self._deliveries.pop(sub, None)
            data = None
            if sock is not None:
                sock.close()
            core.notify_done(sub, ok)
            self.sample_heap()
            self._event_wake.set()

    async def _event_ticker(self):
        # Wakes the delivery loop for expiry and moderated events. (wait_for around
        # Event.wait() is avoided: a cancelled waiter can swallow a later set().)
        while True:
            await asyncio.sleep_ms(250)
            self._event_wake.set()

    async def _events(self):
        core = self.core
        while True:
            await self._event_wake.wait()
            self._event_wake.clear()
            try:
                for sub, ip, port, data in core.notifications():
                    # In flight (counted against GENA_MAX_NOTIFY_IN_FLIGHT) before the task
                    # first runs; a task that cannot be made gives the NOTIFY back.
                    try:
                        asyncio.create_task(self._deliver(sub, ip, port, data))
                    except Exception:
                        core.notify_done(sub, False)
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
                err = None  # type: ignore[assignment]  # drops the traceback (heap)
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
        self.http.open()
        log.info("http listening on", self.core.location)
        supervise = self._supervise
        tasks = [
            asyncio.create_task(supervise("accept", self.http.accept_loop)),
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
        print("[I] agent ready", self.core.udn, "bootid", self.core.boot_id)
        await self._stopping.wait()
        await self.announce("byebye")
        for task in tasks:
            task.cancel()
        self.http.close()
        self.ssdp_sock.close()
        log.info("agent stopped")
