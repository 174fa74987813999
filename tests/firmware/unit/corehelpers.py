# Shared helpers for the firmware core's unit tests. Runs on CPython (pytest) and on the
# MicroPython unix port (run_micropython.py): no pytest, no typing, no f-string tricks.
from upnpguard import core, http
from upnpguard.compat import hexlify

AGENT_IP = "10.1.2.20"
AGENT_PORT = 49152
HOST = "10.1.2.20:49152"
CLIENT_IP = "10.1.2.30"
BOARD_ID = b"unit-test-board"
SERIAL = hexlify(BOARD_ID[:6])  # the description's serialNumber

CONFIG = {
    "friendly_name": "Test board",
    "security_mode": "open",
    "services": [
        {"kind": "switch", "name": "relay", "friendly_name": "Relay", "pin": 5},
        {"kind": "dimmer", "name": "lamp", "friendly_name": "Lamp", "pin": 18},
        {"kind": "sensor", "name": "climate", "friendly_name": "Climate"},
        {"kind": "button", "name": "doorbell", "friendly_name": "Doorbell", "pin": 0},
        {"kind": "contact", "name": "window", "friendly_name": "Window", "pin": 4},
    ],
}


def raises(exc_type, fn, *args):
    """Return the exception `fn(*args)` raised; fail if it raised nothing or another type."""
    try:
        fn(*args)
    except exc_type as err:
        return err
    raise AssertionError("did not raise " + exc_type.__name__)


class Clock:
    def __init__(self):
        self.now = 1000

    def __call__(self):
        return self.now

    def advance(self, ms):
        self.now += ms


class Pin:
    def __init__(self):
        self.level = None
        self.duty = None

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = level
        return None

    def duty_u16(self, duty=None):
        if duty is None:
            return self.duty
        self.duty = duty
        return None


class FakeHal:
    def __init__(self):
        self.pins = {}
        self.inputs = {}
        self.sensors = {}

    def output(self, pin):
        self.pins[pin] = Pin()
        return self.pins[pin]

    def pwm(self, pin, freq):
        self.pins[pin] = Pin()
        return self.pins[pin]

    def sensor(self, entry, update):
        self.sensors[entry["name"]] = update

    def input(self, pin, entry, update):
        self.inputs[entry["name"]] = update


class Rand:
    def __init__(self):
        self.counter = 0

    def __call__(self, count):
        self.counter += 1
        return bytes([(self.counter * 7 + i) & 0xFF for i in range(count)])


def make_agent(
    config=None, clock=None, authorize=None, key=None, store_key=None, updater=None, reboot=None
):
    """The agent core as the board builds it (agent.py), with a fake HAL (`.hal`), a
    clock the test moves (`.clock`), deterministic randomness and an MX delay of half
    the limit."""
    clock = clock or Clock()
    hal = FakeHal()
    agent = core.AgentCore(
        config or CONFIG,
        hal,
        board_id=BOARD_ID,
        ip=AGENT_IP,
        prefix_len=24,
        boot_id=7,
        platform="Linux",
        clock=clock,
        rand_bytes=Rand(),
        random_ms=lambda limit: limit // 2,
        authorize=authorize or core.open_mode_authorize,
        key=key,
        store_key=store_key,
        updater=updater,
        reboot=reboot,
    )
    agent.hal = hal
    agent.clock = clock
    return agent


def parse(raw):
    parser = http.RequestParser()
    request = None
    for i in range(0, len(raw), 100):
        request = parser.feed(raw[i : i + 100])
    if not raw:
        request = parser.feed(b"")
    return request


def request(method, path, headers=(), body=b"", host=HOST):
    lines = [method + " " + path + " HTTP/1.1"]
    if host is not None:
        lines.append("HOST: " + host)
    for name, value in headers:
        lines.append(name + ": " + value)
    if body or method == "POST":
        lines.append(f"CONTENT-LENGTH: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    return parse(raw)


def body_text(response):
    return b"".join(response.chunks()).decode()


def service(agent, name, short):
    for device in agent.root.all_devices():
        if device.name == name:
            for svc in device.services:
                if svc.short == short:
                    return svc
    raise KeyError(name)


def soap_body(service_type, action, args=()):
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in args)
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action} xmlns:u="{service_type}">{inner}</u:{action}></s:Body></s:Envelope>'
    ).encode()


def call(agent, svc, action, args=(), *, body=None, soapaction=None, peer=CLIENT_IP):
    st = svc.type.service_type
    if body is None:
        body = soap_body(st, action, args)
    if soapaction is None:
        soapaction = f'"{st}#{action}"'
    req = request(
        "POST",
        svc.control_path,
        [("CONTENT-TYPE", 'text/xml; charset="utf-8"'), ("SOAPACTION", soapaction)],
        body,
    )
    return agent.handle_request(req, peer)


def fault_code(response):
    text = body_text(response)
    start = text.find("<errorCode>")
    if start < 0:
        return None
    return int(text[start + 11 : text.find("</errorCode>")])


def subscribe(agent, svc, peer=CLIENT_IP, *, callback=None, timeout=None, extra=()):
    headers = [
        ("NT", "upnp:event"),
        ("CALLBACK", callback or f"<http://{peer}:8123/notify>"),
    ]
    if timeout is not None:
        headers.append(("TIMEOUT", timeout))
    headers.extend(extra)
    return agent.handle_request(request("SUBSCRIBE", svc.event_path, headers), peer)


def header(response, name):
    for key, value in response.headers:
        if key.upper() == name.upper():
            return value
    return None
