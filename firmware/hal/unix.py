# Unix-port HAL: simulated pins, PWM, inputs and sensors, a state directory for the
# board identity and boot counter, and a control channel on stdin for tests:
#
#   [<id>] press <name>            button: press and release (State 1 then 0, PressCount+1)
#   [<id>] set <name> 0|1          button/contact level (contact: 1 = closed)
#   [<id>] sensor <name> <t> <rh>  hundredths (2150 = 21.50 C, 4000 = 40.00 %RH); - = keep
#   [<id>] pins                    {"<pin>": level or PWM duty_u16}
#   [<id>] stats                   counters and heap figures
#   [<id>] hog <ms>                heap exhaustion: hold every free heap block for <ms>
#   [<id>] stop                    orderly stop: ssdp:byebye, then exit
#
# Every command is answered with one line: `CTL <id> <json>`.
#
# The watchdog is simulated when the board config has "watchdog_ms" (a board's is always
# armed, 30 s): not fed for that long, the process prints "[E] watchdog reset" and exits.
import asyncio
import gc
import json
import os
import sys

from hal import storage
from upnpguard.compat import ticks_add, ticks_diff, ticks_ms

PLATFORM = "Linux"
# Linux values: the MicroPython unix port's socket module does not export them.
IPPROTO_IP = 0
IP_MULTICAST_IF = 32
IP_MULTICAST_TTL = 33
IP_ADD_MEMBERSHIP = 35
MULTICAST_TTL_SUPPORTED = True


class SimPin:
    def __init__(self, number):
        self.number = number
        self.level = 0

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = 1 if level else 0


class SimPWM:
    def __init__(self, number, freq):
        self.number = number
        self.freq = freq
        self.duty = 0

    def duty_u16(self, duty=None):
        if duty is None:
            return self.duty
        self.duty = int(duty)


class Hal:
    IPPROTO_IP = IPPROTO_IP
    IP_MULTICAST_IF = IP_MULTICAST_IF
    IP_MULTICAST_TTL = IP_MULTICAST_TTL
    IP_ADD_MEMBERSHIP = IP_ADD_MEMBERSHIP
    MULTICAST_TTL_SUPPORTED = MULTICAST_TTL_SUPPORTED

    def __init__(self, args):
        self.args = args
        self.state_dir = args.get("state") or "/tmp/upnpguard-state"
        self.outputs = {}
        self.inputs = {}
        self.sensors = {}
        self.stop_requested = None  # set by the shell: a callable
        self.stats = None  # set by the shell: a callable returning a dict
        self._watchdog_ms = 0
        self._fed = 0
        ip = args.get("ip") or ""
        address, _, prefix = ip.partition("/")
        self._ip = address
        self._prefix = int(prefix or 24)

    # -- network -------------------------------------------------------------------
    async def connect(self, config):
        if not self._ip:
            raise OSError("the unix port needs --ip a.b.c.d/prefix")
        self._watchdog_ms = int(config.get("watchdog_ms", 0))
        if self._watchdog_ms > 0:
            self._fed = ticks_ms()
            asyncio.create_task(self._watchdog())  # the hardware's: not supervised
        return self._ip, self._prefix

    def address(self):
        return self._ip, self._prefix

    # -- pins ----------------------------------------------------------------------
    def output(self, pin):
        self.outputs[pin] = SimPin(pin)
        return self.outputs[pin]

    def pwm(self, pin, freq):
        self.outputs[pin] = SimPWM(pin, freq)
        return self.outputs[pin]

    def input(self, pin, entry, update):
        self.inputs[entry["name"]] = (entry["kind"], update)

    def sensor(self, entry, update):
        self.sensors[entry["name"]] = update

    def pins(self):
        out = {}
        for number, pin in self.outputs.items():
            out[str(number)] = pin.duty if isinstance(pin, SimPWM) else pin.level
        return out

    # -- storage -------------------------------------------------------------------
    def load(self, name):
        return storage.load(self.state_dir, name)

    def store(self, name, data):
        storage.store(self.state_dir, name, data)

    def board_id(self):
        raw = self.load("board_id")
        if raw is None or len(raw) != 16:
            raw = os.urandom(16)
            self.store("board_id", raw)
        return raw

    def feed_watchdog(self):
        self._fed = ticks_ms()

    async def _watchdog(self):
        while ticks_diff(ticks_ms(), self._fed) < self._watchdog_ms:
            await asyncio.sleep_ms(100)
        try:
            print("[E] watchdog reset")
        finally:
            reset()

    def platform_tasks(self):
        """(name, factory) of the HAL's long-lived loops, for the shell to supervise."""
        return [("control-channel", self._control_channel)]

    async def _hog(self, ms):
        # Holds every heap block that comes free for `ms`: what a leak or a burst of
        # load does to a 64 KB heap, at a time a test chooses.
        held = None
        end = ticks_add(ticks_ms(), ms)
        while ticks_diff(end, ticks_ms()) > 0:
            size = 1024
            while size:
                try:
                    held = [held, bytearray(size)]
                except MemoryError:
                    size //= 2
            await asyncio.sleep_ms(50)
        held = None
        gc.collect()

    # -- control channel -----------------------------------------------------------
    async def _control_channel(self):
        stream = asyncio.StreamReader(sys.stdin)
        while True:
            line = await stream.readline()
            if not line:
                return  # stdin closed: keep running without a control channel
            try:
                text = line.decode().strip()
            except UnicodeError:
                continue
            if not text:
                continue
            words = text.split()
            ident = "-"
            if words[0].isdigit():
                ident = words.pop(0)
            try:
                reply = self._command(words)
            except Exception as err:  # a typo in a test must not stop the agent
                reply = {"error": "{}: {}".format(type(err).__name__, err)}
            print("CTL", ident, json.dumps(reply))
            if words and words[0] == "stop" and self.stop_requested:
                self.stop_requested()

    def _command(self, words):
        cmd = words[0] if words else ""
        if cmd == "press":
            _, update = self.inputs[words[1]]
            update(True)
            update(False)
            return {"ok": True}
        if cmd == "set":
            _, update = self.inputs[words[1]]
            update(words[2] == "1")
            return {"ok": True}
        if cmd == "sensor":
            temperature, humidity = words[2], words[3]
            self.sensors[words[1]](
                None if temperature == "-" else int(temperature),
                None if humidity == "-" else int(humidity),
            )
            return {"ok": True}
        if cmd == "pins":
            return {"pins": self.pins()}
        if cmd == "stats":
            return self.stats() if self.stats else {}
        if cmd == "hog":
            asyncio.create_task(self._hog(int(words[1])))
            return {"ok": True}
        if cmd == "stop":
            return {"ok": True}
        return {"error": "unknown command"}


def parse_args(argv):
    """--config FILE --state DIR --ip A.B.C.D/N [--http_port N] [--log LEVEL]

    `--http_port` overrides the config's "http_port"."""
    args = {}
    i = 0
    while i < len(argv):
        key = argv[i]
        if key.startswith("--") and i + 1 < len(argv):
            args[key[2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    return args


def reset():
    sys.exit(1)
