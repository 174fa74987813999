# ESP32 HAL: machine.Pin/PWM/ADC, network.WLAN with backoff, watchdog, flash storage.
# No board in CI: tests/firmware/test_hal_esp32.py runs it under micropython against fakes
# of machine, network and dht; the unix HAL mirrors its interface.
import asyncio
import socket

import machine
import network

from hal import storage

PLATFORM = "ESP32"
WIFI_BACKOFF_MIN_MS = 1000
WIFI_BACKOFF_MAX_MS = 60000
WATCHDOG_MS = 30000  # fed every second by the shell while no supervised task was given up
SENSOR_PERIOD_MS = 10000
INPUT_POLL_MS = 20  # debounce: a level must hold for two polls
NETWORK_CHECK_MS = 5000  # link and address watch
STATE_DIR = "/state"  # board identity and boot counter, on the flash file system


class Hal:
    # MicroPython 1.26's esp32 socket implements IP_ADD_MEMBERSHIP but neither exports nor
    # implements IP_MULTICAST_TTL / IP_MULTICAST_IF (setsockopt prints a warning and does
    # nothing): the TTL stays lwIP's UDP_TTL, not UDA's 2 (docs/firmware.md, "Limits").
    IPPROTO_IP = getattr(socket, "IPPROTO_IP", 0)
    IP_ADD_MEMBERSHIP = getattr(socket, "IP_ADD_MEMBERSHIP", 3)
    IP_MULTICAST_TTL = getattr(socket, "IP_MULTICAST_TTL", 5)
    IP_MULTICAST_IF = getattr(socket, "IP_MULTICAST_IF", 6)
    MULTICAST_TTL_SUPPORTED = hasattr(socket, "IP_MULTICAST_TTL")

    def __init__(self, args):
        self.args = args
        self.wlan = network.WLAN(network.STA_IF)
        self.wdt = None
        self._inputs = []
        self._sensors = []
        self._ip = None
        self.stop_requested = None
        self.stats = None

    async def connect(self, config):
        wifi = config.get("wifi") or {}
        self.wlan.active(True)
        backoff = WIFI_BACKOFF_MIN_MS
        while not self.wlan.isconnected():
            # Credentials are never logged.
            self.wlan.connect(wifi.get("ssid", ""), wifi.get("password", ""))
            for _ in range(backoff // 100):
                if self.wlan.isconnected():
                    break
                await asyncio.sleep_ms(100)
            backoff = min(backoff * 2, WIFI_BACKOFF_MAX_MS)
        self.wdt = machine.WDT(timeout=WATCHDOG_MS)
        ip, mask = self.wlan.ifconfig()[:2]
        self._ip = ip
        prefix = sum(bin(int(octet)).count("1") for octet in mask.split("."))
        return ip, prefix

    def address(self):
        return self.wlan.ifconfig()[0] if self.wlan.isconnected() else None

    def output(self, pin):
        out = machine.Pin(pin, machine.Pin.OUT)
        return out

    def pwm(self, pin, freq):
        return machine.PWM(machine.Pin(pin), freq=freq, duty_u16=0)

    def input(self, pin, entry, update):
        # Buttons and contacts pull up and close to ground: active low.
        self._inputs.append((machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP), update, [None]))

    def sensor(self, entry, update):
        kind = entry.get("sensor", "dht22")
        if kind == "dht22":
            import dht

            device = dht.DHT22(machine.Pin(entry["pin"]))

            def read():
                device.measure()
                return int(device.temperature() * 100), int(device.humidity() * 100)

        else:  # "ntc": ADC on a voltage divider, linear calibration from the config
            adc = machine.ADC(machine.Pin(entry["pin"]), atten=machine.ADC.ATTN_11DB)
            scale = entry.get("scale", 1.0)
            offset = entry.get("offset", 0.0)

            def read():
                return int((adc.read_uv() / 1000 * scale + offset) * 100), None

        self._sensors.append((read, update))

    def pins(self):
        return {}

    def load(self, name):
        return storage.load(STATE_DIR, name)

    def store(self, name, data):
        storage.store(STATE_DIR, name, data)

    def board_id(self):
        return machine.unique_id()

    def feed_watchdog(self):
        if self.wdt is not None:
            self.wdt.feed()

    def platform_tasks(self):
        """(name, factory) of the HAL's long-lived loops, for the shell to supervise."""
        return [
            ("inputs", self._poll_inputs),
            ("sensors", self._poll_sensors),
            ("network", self._watch_network),
        ]

    async def _poll_inputs(self):
        while True:
            for pin, update, last in self._inputs:
                level = 1 - pin.value()
                if level == last[0]:
                    update(level)
                last[0] = level
            await asyncio.sleep_ms(INPUT_POLL_MS)

    async def _poll_sensors(self):
        while True:
            for read, update in self._sensors:
                try:
                    update(*read())
                except OSError:
                    pass  # a sensor timeout keeps the last value
            await asyncio.sleep_ms(SENSOR_PERIOD_MS)

    async def _watch_network(self):
        # On a lost link or a new address the board restarts: the next boot announces with
        # a new BOOTID.UPNP.ORG from the new address (UDA 1.1 1.2.2), and the reconnect
        # uses the same backoff as the first connect.
        while True:
            await asyncio.sleep_ms(NETWORK_CHECK_MS)
            if not self.wlan.isconnected() or self.wlan.ifconfig()[0] != self._ip:
                machine.reset()


def parse_args(argv):
    return {"config": "config.json"}


def reset():
    machine.reset()
