"""Board config validation for provisioning (docs/firmware.md "Board config").

The firmware checks a config only as far as it needs to run (devices.build_devices: kinds,
names, integer pins); a board that boots with a pin wired twice or a GPIO its chip lacks
fails far from the person who typed it. This is the stricter check run on the computer
before anything is copied: every error names the entry and what to fix. The kinds must
stay those of firmware/upnpguard/servicetypes.py DEVICE_TYPES (a test compares them).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

KINDS = ("button", "contact", "dimmer", "sensor", "switch")
OUTPUT_KINDS = ("switch", "dimmer")
PIN_KINDS = ("switch", "dimmer", "button", "contact", "sensor")
TOP_KEYS = {
    "friendly_name",
    "http_port",
    "services",
    "security_mode",
    "wifi",
    "chip",
    "watchdog_ms",
    "allow_other_callback_hosts",
}
SERVICE_KEYS = {"kind", "name", "friendly_name", "pin", "freq", "sensor", "scale", "offset"}
MAX_SERVICES = 8
MAX_NAME = 32
MAX_FRIENDLY = 64


def _gpios(*ranges: tuple[int, int]) -> frozenset[int]:
    return frozenset(pin for low, high in ranges for pin in range(low, high + 1))


# Per chip: GPIOs that exist and are free (the SPI flash pins left out), outputs, ADC1.
# From the chips' datasheets; never run on a board by this project (docs/firmware.md).
CHIPS: dict[str, dict[str, frozenset[int]]] = {
    "esp32": {
        "usable": _gpios((0, 5), (12, 19), (21, 23), (25, 27), (32, 39)),
        "output": _gpios((0, 5), (12, 19), (21, 23), (25, 27), (32, 33)),
        "adc": _gpios((32, 39)),
    },
    "esp32s3": {
        "usable": _gpios((0, 21), (33, 48)),
        "output": _gpios((0, 21), (33, 48)),
        "adc": _gpios((1, 10)),
    },
    "esp32c3": {
        "usable": _gpios((0, 10), (18, 21)),
        "output": _gpios((0, 10), (18, 21)),
        "adc": _gpios((0, 4)),
    },
}


class BoardConfigError(ValueError):
    """A board config that must not reach a board; the message says what to fix."""


def _text(value: object, what: str, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not value and not empty):
        size = f"0..{limit}" if empty else f"1..{limit}"
        raise BoardConfigError(f"{what} must be a string of {size} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise BoardConfigError(f"{what} must not contain control characters")
    return value


def _check_pin(entry: dict[str, Any], where: str, chip: str | None, used: dict[int, str]) -> None:
    kind = entry["kind"]
    pin = entry.get("pin")
    if kind == "sensor" and pin is None:
        return  # a sensor without a pin is fed by its HAL (the unix port's test console)
    if isinstance(pin, bool) or not isinstance(pin, int):
        raise BoardConfigError(f"{where}: pin must be a GPIO number")
    if pin in used:
        raise BoardConfigError(f"{where}: pin {pin} is already used by {used[pin]}")
    used[pin] = where
    if chip is None:
        if not 0 <= pin <= 48:
            raise BoardConfigError(f"{where}: pin {pin} is no GPIO of an ESP32 (0..48)")
        return
    pins = CHIPS[chip]
    if pin not in pins["usable"]:
        raise BoardConfigError(f"{where}: GPIO {pin} is not usable on {chip} (absent or flash)")
    if kind in OUTPUT_KINDS and pin not in pins["output"]:
        raise BoardConfigError(f"{where}: GPIO {pin} is input-only on {chip}")
    if kind == "sensor" and entry.get("sensor") == "ntc" and pin not in pins["adc"]:
        raise BoardConfigError(f"{where}: GPIO {pin} has no ADC1 channel on {chip}")


def _check_service(entry: object, index: int, chip: str | None, used: dict[int, str]) -> str:
    where = f"services[{index}]"
    if not isinstance(entry, dict):
        raise BoardConfigError(f"{where} must be an object")
    unknown = sorted(set(entry) - SERVICE_KEYS)
    if unknown:
        raise BoardConfigError(f"{where}: unknown key {unknown[0]!r}")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise BoardConfigError(f"{where}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    name = _text(entry.get("name"), f"{where}.name", MAX_NAME)
    where = f"service {name!r}"
    if "friendly_name" in entry:
        _text(entry["friendly_name"], f"{where}: friendly_name", MAX_FRIENDLY)
    if kind == "sensor" and entry.get("sensor", "dht22") not in ("dht22", "ntc"):
        raise BoardConfigError(f"{where}: sensor must be dht22 or ntc")
    if kind == "dimmer" and "freq" in entry:
        freq = entry["freq"]
        if isinstance(freq, bool) or not isinstance(freq, int) or not 1 <= freq <= 40000:
            raise BoardConfigError(f"{where}: freq must be 1..40000 Hz")
    for key in ("scale", "offset"):
        value = entry.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BoardConfigError(f"{where}: {key} must be a number")
    _check_pin(entry, where, chip, used)
    return name


def validate(config: object, *, chip: str | None = None, board: bool = True) -> dict[str, Any]:
    """Check a board config; `chip` (esp32, esp32s3, esp32c3, or the config's "chip")
    enables the GPIO map; `board`: WiFi credentials are required. Returns the config."""
    if not isinstance(config, dict):
        raise BoardConfigError("the board config must be a JSON object")
    unknown = sorted(set(config) - TOP_KEYS)
    if unknown:
        raise BoardConfigError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(TOP_KEYS))})")
    chip = chip or config.get("chip")
    if chip is not None and chip not in CHIPS:
        raise BoardConfigError(f"unknown chip {chip!r} (one of {', '.join(CHIPS)})")
    _text(config.get("friendly_name", "UPnP Guard Agent"), "friendly_name", MAX_FRIENDLY)
    port = config.get("http_port", 49152)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise BoardConfigError("http_port must be 1..65535")
    if config.get("security_mode", "paired") not in ("paired", "open"):
        raise BoardConfigError("security_mode must be paired or open")
    services = config.get("services", [])
    if not isinstance(services, list) or len(services) > MAX_SERVICES:
        raise BoardConfigError(f"services must be a list of at most {MAX_SERVICES} entries")
    used: dict[int, str] = {}
    names: set[str] = set()
    for index, entry in enumerate(services):
        name = _check_service(entry, index, chip, used)
        if name in names:
            raise BoardConfigError(f"service name {name!r} is used twice")
        names.add(name)
    wifi = config.get("wifi")
    if board or wifi is not None:
        if not isinstance(wifi, dict) or set(wifi) != {"ssid", "password"}:
            raise BoardConfigError('wifi must be {"ssid": ..., "password": ...} (required)')
        _text(wifi["ssid"], "wifi ssid", 32)
        password = _text(wifi["password"], "wifi password", 63, empty=True)
        if password and len(password) < 8:
            raise BoardConfigError("wifi password must be 8..63 characters (empty: open network)")
    return config


class _Pin:
    """What build_devices drives: a GPIO level or a PWM duty (recorded, never hardware)."""

    def value(self, level: int | None = None) -> int:
        return 0

    def duty_u16(self, duty: int | None = None) -> int:
        return 0


class _Hal:
    def output(self, pin: int) -> _Pin:
        return _Pin()

    def pwm(self, pin: int, freq: int) -> _Pin:
        return _Pin()

    def sensor(self, entry: object, update: object) -> None:
        return None

    def input(self, pin: int, entry: object, update: object) -> None:
        return None


def firmware_check(config: dict[str, Any], firmware: Path) -> None:
    """The firmware's own check (upnpguard.devices.build_devices, run here on CPython as
    the unit tests run it) after ours: what it refuses at boot is refused now."""
    if not (firmware / "upnpguard" / "devices.py").is_file():
        raise BoardConfigError(f"{firmware}: no firmware sources to check the config with")
    sys.path.insert(0, str(firmware))
    try:
        devices = importlib.import_module("upnpguard.devices")
    finally:
        sys.path.remove(str(firmware))
    try:
        devices.build_devices(config, b"provision", _Hal(), lambda index: "t", 1, lambda: 0)
    except devices.ConfigError as err:
        raise BoardConfigError(f"the firmware refuses it: {err}") from None
