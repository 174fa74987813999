"""Drive the simulated pins of the demo's agents, as a person and the weather would.

`PinDriver` runs inside `scripts/develop`: every few seconds the temperature and humidity
drift a little, now and then the button is pressed and the window opens or closes. It
also answers one-line commands on a unix socket in the demo's state directory, sent by
this module's command line (or by the browser test):

    scripts/develop pins press              # press the hall light's button
    scripts/develop pins window open|closed
    scripts/develop pins climate 23.5 48    # degrees Celsius, %RH
    scripts/develop pins show               # the agents' pin levels (PWM duty, inputs)

Replies are one JSON line: {"ok": ...} or {"error": "..."}.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import socket
import socketserver
import sys
import threading
from pathlib import Path
from typing import Any

from tests.lan.agent import Agent

# Bounds for a command line from the socket (local, but still input).
MAX_COMMAND_BYTES = 256
DRIFT_EVERY_S = 5.0
PRESS_EVERY = 6  # drift steps between button presses (30 s)
WINDOW_EVERY = 9  # drift steps between window changes (45 s)
CLIMATE_RANGE = (-40.0, 85.0)
HUMIDITY_RANGE = (0.0, 100.0)


class PinDriver:
    """Serialises every command to the agents (their control channel is one pipe each)."""

    def __init__(self, light: Agent, climate: Agent, socket_path: Path) -> None:
        self.light = light
        self.climate = climate
        self.socket_path = socket_path
        self.temperature = 21.0
        self.humidity = 45.0
        self.window_open = False
        self.presses = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: socketserver.UnixStreamServer | None = None

    # -- commands -----------------------------------------------------------------------
    def run(self, words: list[str]) -> dict[str, Any]:
        with self._lock:
            match words:
                case ["press"]:
                    self.light.press_button("doorbell")
                    self.presses += 1
                    return {"ok": {"presses": self.presses}}
                case ["window", ("open" | "closed") as position]:
                    self.window_open = position == "open"
                    # The contact is closed while the window is shut.
                    self.climate.set_input("window", closed=not self.window_open)
                    return {"ok": {"window": position}}
                case ["climate", temperature, humidity]:
                    value = float(temperature), float(humidity)
                    if not (
                        CLIMATE_RANGE[0] <= value[0] <= CLIMATE_RANGE[1]
                        and HUMIDITY_RANGE[0] <= value[1] <= HUMIDITY_RANGE[1]
                    ):
                        return {"error": f"out of range {CLIMATE_RANGE} / {HUMIDITY_RANGE}"}
                    self.temperature, self.humidity = value
                    self.climate.set_sensor("climate", temperature=value[0], humidity=value[1])
                    return {"ok": {"temperature": value[0], "humidity": value[1]}}
                case ["show"]:
                    return {"ok": {"light": self.light.pins(), "climate": self.climate.pins()}}
            return {"error": "commands: press | window open|closed | climate <C> <%RH> | show"}

    # -- automatic drift ----------------------------------------------------------------
    def _drift(self) -> None:
        step = 0
        while not self._stop.wait(DRIFT_EVERY_S):
            step += 1
            temperature = 21.0 + 2.0 * math.sin(step / 12) + random.uniform(-0.2, 0.2)
            humidity = 45.0 + 5.0 * math.cos(step / 15) + random.uniform(-0.5, 0.5)
            with contextlib.suppress(RuntimeError, TimeoutError, ValueError):
                self.run(["climate", f"{temperature:.2f}", f"{humidity:.1f}"])
                if step % PRESS_EVERY == 0:
                    self.run(["press"])
                if step % WINDOW_EVERY == 0:
                    self.run(["window", "closed" if self.window_open else "open"])

    # -- control socket -----------------------------------------------------------------
    def start(self, *, drift: bool) -> None:
        driver = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(MAX_COMMAND_BYTES)
                try:
                    reply = driver.run(line.decode("utf-8", "replace").split())
                except (RuntimeError, TimeoutError, ValueError) as err:
                    reply = {"error": str(err)[:200]}
                self.wfile.write(json.dumps(reply).encode() + b"\n")

        self.socket_path.unlink(missing_ok=True)
        # Owner only from the moment it exists: it drives the agents' pins.
        previous = os.umask(0o177)
        try:
            self._server = socketserver.ThreadingUnixStreamServer(str(self.socket_path), Handler)
        finally:
            os.umask(previous)
        self._server.daemon_threads = True
        targets = [self._server.serve_forever] + ([self._drift] if drift else [])
        for target in targets:
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(10)
        self.socket_path.unlink(missing_ok=True)


def send(socket_path: Path, words: list[str], timeout: float = 30.0) -> dict[str, Any]:
    """One command to a running demo's driver."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        sock.sendall(" ".join(words).encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    result: dict[str, Any] = json.loads(reply)
    return result


def main(socket_path: Path, words: list[str]) -> int:
    try:
        reply = send(socket_path, words)
    except FileNotFoundError, ConnectionRefusedError:
        print("no demo running (start scripts/develop first)", file=sys.stderr)
        return 1
    print(json.dumps(reply))
    return 0 if "ok" in reply else 1
