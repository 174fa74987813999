# The shell (firmware/upnpguard/shell.py) with the ESP32 HAL on the unix port, against the
# fakes of the board's modules (fakes.py): supervision of long-lived tasks and the
# watchdog feed, a SUBSCRIBE whose response cannot be written, and NOTIFY deliveries of
# subscriptions that go away (real sockets on 127.0.0.1).
#   micropython tests/firmware/esp32/run_shell_esp32.py <repo>
# Prints one line per test and "passed N failed M".
import asyncio
import socket
import sys

root = sys.argv[1]
sys.path.insert(0, root + "/firmware")  # the sources (what the frozen build holds)
sys.path.insert(0, root + "/tests/firmware/esp32")
sys.path.insert(0, root + "/tests/firmware/unit")

import fakes  # noqa: E402

sys.modules["machine"] = fakes.Machine
sys.modules["network"] = fakes.Network
sys.modules["dht"] = fakes.Dht

from corehelpers import CLIENT_IP, HOST, make_agent, request, service  # noqa: E402
from hal import esp32  # noqa: E402
from upnpguard import limits  # noqa: E402
from upnpguard.compat import ticks_ms  # noqa: E402
from upnpguard.shell import Shell  # noqa: E402

# Short pauses: the supervisor reads these at run time.
limits.TASK_RESTART_PAUSE_MS = 1


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def board():
    fakes.WLAN.connect_after = 1
    hal = esp32.Hal({})
    asyncio.run(hal.connect({"wifi": {"ssid": "home", "password": "pw"}}))
    return hal


async def fed_while(shell, coro, ms):
    """Run the shell's housekeeping (the watchdog feed) next to `coro` for `ms`; return
    how often the watchdog was fed after `coro` ended."""
    housekeeping = asyncio.create_task(shell._housekeeping())
    await coro
    fed = shell.hal.wdt.fed
    await asyncio.sleep_ms(ms)
    housekeeping.cancel()
    return shell.hal.wdt.fed - fed


def test_a_task_that_cannot_be_restarted_stops_the_watchdog_feed():
    shell = Shell(make_agent(), board())
    runs = []

    async def out_of_memory():
        runs.append(1)
        raise MemoryError

    fed = asyncio.run(fed_while(shell, shell._supervise("accept", out_of_memory), 2100))
    check(len(runs) == limits.TASK_RESTARTS_MAX + 1, runs)
    check(shell.gave_up == "accept", shell.gave_up)
    check(fed == 0, "watchdog still fed by an agent that cannot serve")


def test_a_task_that_fails_is_restarted_and_the_watchdog_stays_fed():
    shell = Shell(make_agent(), board())
    runs = []

    async def fails_twice_then_serves():
        runs.append(1)
        if len(runs) <= 2:
            raise MemoryError
        await asyncio.sleep_ms(10)  # then returns: its job is done

    fed = asyncio.run(fed_while(shell, shell._supervise("ssdp", fails_twice_then_serves), 1100))
    check(len(runs) == 3, runs)
    check(shell.gave_up is None and shell.restarts == 2, (shell.gave_up, shell.restarts))
    check(fed >= 1, "watchdog not fed")


class Stream:
    """A connection's stream: `data` to read; writes fail when `broken`."""

    def __init__(self, data, broken):
        self.data = data
        self.broken = broken
        self.written = b""
        self.closed = False

    async def read(self, n):
        chunk = self.data[:n]
        self.data = self.data[n:]
        return chunk

    def write(self, buf):
        if self.broken:
            raise OSError(104)  # ECONNRESET: the subscriber is gone
        self.written += bytes(buf)

    async def drain(self):
        pass

    async def wait_closed(self):
        self.closed = True


def subscribe_over(shell, svc, broken):
    raw = "SUBSCRIBE {} HTTP/1.1\r\nHOST: {}\r\nNT: upnp:event\r\nCALLBACK: <http://{}:8123/n>\r\n\r\n"
    stream = Stream(raw.format(svc.event_path, HOST, CLIENT_IP).encode(), broken)
    conn = shell.http._admit(CLIENT_IP, None, ticks_ms())
    asyncio.run(shell.http._client(stream, CLIENT_IP, conn))
    check(stream.closed and shell.http._conns == [], "connection not closed and forgotten")
    return stream


def test_subscription_whose_response_cannot_be_written_is_released():
    agent = make_agent()
    shell = Shell(agent, board())
    svc = service(agent, "doorbell", "BinaryInput")
    subscribe_over(shell, svc, broken=True)
    stats = shell.stats()
    check(stats["subscriptions"] == 0, "subscription held although nobody got its SID")
    check(stats["subscriptions_released"] == 1, stats)
    # The same subscriber subscribes again at once (one per service per host).
    stream = subscribe_over(shell, svc, broken=False)
    check(stream.written.startswith(b"HTTP/1.1 200 OK"), stream.written[:40])
    check(shell.stats()["subscriptions"] == 1, "not subscribed")
    # The initial event is due now that the response went out, and the shell was woken.
    check(shell._event_wake.is_set(), "delivery loop not woken")
    check(len(list(agent.notifications())) == 1, "no initial event")


def listener():
    """A TCP socket on 127.0.0.1 that accepts into its backlog and never answers."""
    for port in range(47811, 47911):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            srv.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        except OSError:
            srv.close()
            continue
        srv.listen(2)
        srv.setblocking(False)
        return srv, port
    raise AssertionError("no free port")


def connected(srv):
    try:
        conn, _ = srv.accept()
    except OSError:
        return False
    conn.close()
    return True


def subscribed_with_event(agent, shell, svc):
    """A subscription to `svc` and its initial NOTIFY, taken (in flight); its SID."""
    raw = "SUBSCRIBE {} HTTP/1.1\r\nHOST: {}\r\nNT: upnp:event\r\nCALLBACK: <http://{}:8123/n>\r\n\r\n"
    stream = Stream(raw.format(svc.event_path, HOST, CLIENT_IP).encode(), False)
    asyncio.run(
        shell.http._client(stream, CLIENT_IP, shell.http._admit(CLIENT_IP, None, ticks_ms()))
    )
    [(sub, _, _, data)] = list(agent.notifications())
    return sub, data, stream.written.decode().split("SID: ")[1].split("\r\n")[0]


def unsubscribe(agent, svc, sid):
    req = request("UNSUBSCRIBE", svc.event_path, [("SID", sid)])
    check(agent.handle_request(req, CLIENT_IP).status == 200, "unsubscribe")


def test_a_notify_whose_subscription_left_before_it_started_is_not_sent():
    agent = make_agent()
    shell = Shell(agent, board())
    svc = service(agent, "doorbell", "BinaryInput")
    srv, port = listener()
    try:
        sub, data, sid = subscribed_with_event(agent, shell, svc)
        unsubscribe(agent, svc, sid)  # before the delivery task ever ran
        asyncio.run(shell._deliver(sub, "127.0.0.1", port, data))
        check(not connected(srv), "NOTIFY sent for a subscription that had left")
        stats = shell.stats()
        check(stats["notify_in_flight"] == 0, stats)
        check(stats["notify_cancelled"] == 0, stats)
    finally:
        srv.close()


def test_a_notify_in_flight_is_cancelled_when_its_subscription_leaves():
    agent = make_agent()
    shell = Shell(agent, board())
    svc = service(agent, "doorbell", "BinaryInput")
    srv, port = listener()

    async def scenario(sub, data, sid):
        task = asyncio.create_task(shell._deliver(sub, "127.0.0.1", port, data))
        # Until the NOTIFY reached the listener; it then waits for a status line (2 s).
        for _ in range(200):
            await asyncio.sleep_ms(10)
            if connected(srv):
                break
        else:
            raise AssertionError("the delivery never connected")
        check(shell.stats()["notify_in_flight"] == 1, "not in flight")
        unsubscribe(agent, svc, sid)
        check(shell.notifies_cancelled == 1, "delivery not cancelled")
        for _ in range(3):  # a few turns of the scheduler, no waiting on the clock
            await asyncio.sleep_ms(0)
        check(task.done(), "cancelled delivery still running")

    try:
        asyncio.run(scenario(*subscribed_with_event(agent, shell, svc)))
        stats = shell.stats()
        check(stats["notify_in_flight"] == 0, stats)
        check(stats["subscriptions"] == 0 and stats["subscriptions_dropped"] == 0, stats)
    finally:
        srv.close()


fakes.run_tests(globals())
