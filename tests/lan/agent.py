"""Start a UPnP Guard agent (the firmware under the MicroPython unix port) on the LAN.

    agent = start_agent(lan, "agent", config)          # waits until it announced itself
    agent.description_url                              # http://<ip>:49152/desc.xml
    agent.press_button("doorbell"); agent.set_input("window", closed=True)
    agent.set_sensor("climate", temperature=21.5, humidity=40.0)
    agent.pins()                                       # {"5": 1, "18": 32767}: level / PWM duty
    agent.stats()                                      # counters, heap figures
    agent.stop()                                       # orderly: ssdp:byebye, then exit
    agent.kill()                                       # SIGKILL, no byebye
    agent = agent.restarted()                          # the same board again: BOOTID + 1
    agent.pairing_key                                  # paired mode: the 32-byte key

Paired mode is the firmware's default; DEFAULT_CONFIG asks for `open` explicitly (the
tests that drive it with stock clients), PAIRED_CONFIG is the same board paired. A paired
agent's key is the one passed as `key=` (written to the state dir, as the provisioning
tool does) or the one it printed on its first boot (PAIRING_KEY_LINE).

The `agent` fixture starts one with DEFAULT_CONFIG on a host named "agent". A test's own
board: `board_config("Shed agent", "relay", security_mode="paired")`.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import cache
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from upnp_guard_fleet.romfs import build_romfs

from .core import Host, Lan, Process

REPO_DIR = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = REPO_DIR / "firmware"
AGENT_HTTP_PORT = 49152


@dataclass(frozen=True)
class Build:
    """One way to run the agent: an interpreter, how the agent is started, a default heap."""

    name: str
    binary: str
    entry: tuple[str, ...]
    heap: str
    frozen: bool


# scripts/build-firmware freezes the agent into the unix port. "w" scales the heap by the
# word size: 64wK is 64 KB on the 32-bit build, like an ESP32's heap, and 128 KB on the
# 64-bit one. From source (Debian's micropython, the README's command) the agent's bytecode
# and names live on the heap too (idle 176 KB against 76 KB frozen, 64-bit, since the
# over-the-air update code): 100wK is the smallest heap that survives the memory load there
# (bench/firmware_heap.py, 2026-12-03; 96wK before the update code), 104wK leaves a margin.
BUILDS = {
    "frozen-32": Build(
        "frozen-32", "micropython-upnpguard-32", ("-m", "upnpguard.agent"), "64wK", True
    ),
    "frozen": Build("frozen", "micropython-upnpguard", ("-m", "upnpguard.agent"), "64wK", True),
    "source": Build("source", "micropython", (str(FIRMWARE_DIR / "main.py"),), "104wK", False),
    # The .mpy bundle (upnp-guard-build) a board without a custom image runs: pass
    # start_agent(bundle=DIR). Its bytecode, names and constants live on the heap (idle
    # 80 KB on the 32-bit build): 64 KB is not enough, 112 KB survives the memory load
    # (bench/firmware_heap.py, docs/firmware.md "Memory"). On the 32-bit build the bundle
    # comes before the frozen copy on sys.path (MICROPYPATH), so it shadows it.
    "mpy": Build("mpy", "micropython", ("-m", "upnpguard.agent"), "96wK", False),
    "mpy-32": Build("mpy-32", "micropython-upnpguard-32", ("-m", "upnpguard.agent"), "112wK", True),
    # The same bundle in a ROMFS image (upnp-guard-build --romfs), started by the loader
    # (firmware/main.py --romfs IMAGE) as a board whose MicroPython has ROMFS enabled: the
    # bytecode runs in place from the mapped image (firmware/unix_modules/ugrom), but the
    # names, function and module tables are still built on the heap: idle 60 KB, and
    # 80 KB is the smallest heap that survives the memory load (docs/firmware.md "Memory").
    "romfs-32": Build(
        "romfs-32", "micropython-upnpguard-32", (str(FIRMWARE_DIR / "main.py"),), "80wK", True
    ),
}
BUNDLE_BUILDS = ("mpy", "mpy-32", "romfs-32")
# Every test's agent runs like a board: 32-bit, frozen, a 64 KB heap.
DEFAULT_BUILD = "frozen-32"
AGENT_HEAP = BUILDS[DEFAULT_BUILD].heap
READY_TIMEOUT = 30.0
COMMAND_TIMEOUT = 15.0

# The services the test boards are made of, by name, as an agent's config.json lists them.
SERVICES: dict[str, dict[str, Any]] = {
    "relay": {"kind": "switch", "name": "relay", "friendly_name": "Relay", "pin": 5},
    "lamp": {"kind": "dimmer", "name": "lamp", "friendly_name": "Lamp", "pin": 18, "freq": 1000},
    "climate": {"kind": "sensor", "name": "climate", "friendly_name": "Climate"},
    "doorbell": {"kind": "button", "name": "doorbell", "friendly_name": "Doorbell", "pin": 0},
    "window": {"kind": "contact", "name": "window", "friendly_name": "Window", "pin": 4},
}


def board_config(
    friendly_name: str, *services: str | dict[str, Any], security_mode: str = "open"
) -> dict[str, Any]:
    """A board's configuration: its name, security mode and services, each a name in
    SERVICES or a service of its own (copied: a test may change its board's)."""
    return {
        "friendly_name": friendly_name,
        "security_mode": security_mode,
        "services": [
            dict(SERVICES[service] if isinstance(service, str) else service) for service in services
        ],
    }


DEFAULT_CONFIG = board_config("Test agent", "relay", "lamp", "climate", "doorbell", "window")

PAIRED_CONFIG: dict[str, Any] = {**DEFAULT_CONFIG, "security_mode": "paired"}
# What the agent prints once, on the first boot without a provisioned key.
PAIRING_KEY_LINE = re.compile(r"^\[I\] pairing key for (.*): ([A-Za-z0-9+/=]{44})$", re.M)


def pairing_key_lines(output: str) -> list[tuple[str, str]]:
    """(friendly name, base64 key) of every pairing-key line in a console output."""
    return PAIRING_KEY_LINE.findall(output)


class Agent:
    """A running agent and its control channel (stdin commands, `CTL <id> <json>` replies)."""

    def __init__(
        self,
        host: Host,
        process: Process,
        config: dict[str, Any],
        port: int,
        key: bytes | None,
        *,
        state_dir: Path,
        start_again: Callable[[bytes | None], Agent] | None = None,
    ) -> None:
        self.host = host
        self.process = process
        self.config = config
        self.port = port
        self.state_dir = state_dir
        self._key = key
        self._start_again = start_again
        self._ids = itertools.count(1)

    @property
    def pairing_key(self) -> bytes:
        """The key given to start_agent, else the one the agent printed on this start."""
        if self._key is not None:
            return self._key
        lines = pairing_key_lines(self.process.output())
        if not lines:
            raise RuntimeError(
                "the agent printed no pairing key (open mode, or not its first boot)"
            )
        return base64.b64decode(lines[-1][1])

    def restarted(self, key: bytes | None = None) -> Agent:
        """The same board powered on again (after stop() or kill()): the same host, build,
        configuration and state directory, so the same UDNs and BOOTID + 1. `key`
        provisions another key first, as start_agent's does. (A SupervisedAgent powers on
        again in place: restart().)"""
        if self._start_again is None:
            raise RuntimeError(f"{type(self).__name__} is powered on again with restart()")
        return self._start_again(key)

    @property
    def ip(self) -> str:
        return self.host.ip

    @property
    def base_url(self) -> str:
        return f"http://{self.host.ip}:{self.port}"

    @property
    def description_url(self) -> str:
        return f"{self.base_url}/desc.xml"

    def command(self, *words: str, timeout: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        ident = next(self._ids)
        stdin = self.process.popen.stdin
        if stdin is None:
            raise RuntimeError("agent has no stdin")
        stdin.write(f"{ident} {' '.join(words)}\n".encode())
        stdin.flush()
        match = self.process.wait_for_output(rf"CTL {ident} (.*)\n", timeout=timeout)
        reply: dict[str, Any] = json.loads(match.group(1))
        if "error" in reply:
            raise RuntimeError(f"agent refused {words}: {reply['error']}")
        return reply

    def press_button(self, name: str) -> None:
        self.command("press", name)

    def set_input(self, name: str, *, closed: bool) -> None:
        self.command("set", name, "1" if closed else "0")

    def set_sensor(
        self, name: str, *, temperature: float | None = None, humidity: float | None = None
    ) -> None:
        """Degrees Celsius and %RH; the agent reports hundredths (TemperatureSensor:1)."""

        def centi(value: float | None) -> str:
            return "-" if value is None else str(round(value * 100))

        self.command("sensor", name, centi(temperature), centi(humidity))

    def pins(self) -> dict[str, int]:
        pins: dict[str, int] = self.command("pins")["pins"]
        return pins

    def stats(self) -> dict[str, Any]:
        return self.command("stats")

    def alive(self) -> bool:
        return self.process.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Orderly stop: the agent sends ssdp:byebye and exits."""
        if self.alive():
            self.command("stop")
            try:
                self.process.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                return self.process.stop()
        return self.process.popen.returncode

    def kill(self) -> None:
        """SIGKILL: no byebye. Lan.close() reaps it if the machine is too busy to wait."""
        self.process.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.popen.wait(10)


def firmware_digest() -> str:
    """What scripts/build-firmware writes to <binary>.digest: the frozen agent sources."""
    roots = [FIRMWARE_DIR / "upnpguard", FIRMWARE_DIR / "hal"]
    files = [path for root in roots for path in root.rglob("*.py")]
    files += [FIRMWARE_DIR / "manifest.py", FIRMWARE_DIR / "manifest_unix.py"]
    names = sorted(str(path.relative_to(REPO_DIR)) for path in files)
    digest = sha256()
    for name in names:
        digest.update(name.encode() + b"\n" + (REPO_DIR / name).read_bytes())
    return digest.hexdigest()


@cache
def binary_for(build: str) -> str:
    """The interpreter of a build; a frozen build must hold the agent as it is now."""
    spec = BUILDS[build]
    path = shutil.which(spec.binary)
    if path is None:
        raise RuntimeError(f"{spec.binary} not found: run scripts/setup")
    if spec.frozen:
        stamp = Path(path + ".digest")
        built = stamp.read_text().strip() if stamp.exists() else ""
        if built != firmware_digest():
            raise RuntimeError(
                f"{spec.binary} holds an older agent than firmware/: run scripts/build-firmware"
            )
    return path


def start_agent(
    lan: Lan,
    name: str = "agent",
    config: dict[str, Any] | None = None,
    *,
    host: Host | None = None,
    build: str = DEFAULT_BUILD,
    heap: str | None = None,
    port: int = AGENT_HTTP_PORT,
    log_level: str = "info",
    state_dir: Path | None = None,
    key: bytes | None = None,
    bundle: Path | None = None,
    wait: bool = True,
) -> Agent:
    """Start the firmware on a (new) LAN host and wait until it has announced itself
    (`wait=False`: return at once, e.g. to kill it while it boots).

    `build` picks the interpreter (BUILDS); `heap` defaults to the build's. Pass the same
    `state_dir` again, or call `restarted()`, to simulate a reboot of the same board (same
    UDNs, BOOTID + 1).
    `key` provisions a paired agent's 32-byte key in the state dir before it starts.
    `bundle` (the "mpy" builds, which need one): a bundle directory the agent's modules
    are imported from, ahead of any frozen copy.
    """
    spec = BUILDS[build]
    if (bundle is None) != (build not in BUNDLE_BUILDS):
        raise ValueError(f"the {build!r} build {'needs' if bundle is None else 'takes no'} bundle")
    extra: dict[str, object] = {}
    romfs: tuple[str, ...] = ()
    if bundle is not None and build.startswith("romfs"):
        image = build_romfs(bundle, lan.workdir / f"{name}.romfs")
        romfs = ("--romfs", str(image))
    elif bundle is not None:
        # sys.path is '' (the working directory, below) then MICROPYPATH's entries.
        extra["env"] = {**os.environ, "MICROPYPATH": f"{bundle}:.frozen"}
    binary = binary_for(build)
    host = host or lan.add_host(name)
    config = copy.deepcopy(config if config is not None else DEFAULT_CONFIG)
    config.setdefault("http_port", port)
    config_path = lan.workdir / f"{name}-config.json"
    config_path.write_text(json.dumps(config))
    state = state_dir or lan.workdir / f"{name}-state"
    state.mkdir(exist_ok=True)
    if key is not None:
        (state / "key").write_text(base64.b64encode(key).decode())
    process = host.start(
        binary,
        "-X",
        f"heapsize={heap or spec.heap}",
        *spec.entry,
        *romfs,
        "--config",
        str(config_path),
        "--state",
        str(state),
        "--ip",
        f"{host.ip}/{host.network.prefixlen}",
        "--log",
        log_level,
        label="agent",
        # Not the firmware directory: `-m` must find the frozen package, not the sources.
        cwd=str(lan.workdir),
        **extra,
    )
    if wait:
        process.wait_for_output(r"agent ready", timeout=READY_TIMEOUT)

    def start_again(new_key: bytes | None) -> Agent:
        return start_agent(
            lan,
            name,
            config,
            host=host,
            build=build,
            heap=heap,
            port=port,
            log_level=log_level,
            state_dir=state,
            key=new_key,
            bundle=bundle,
        )

    return Agent(
        host,
        process,
        config,
        int(config["http_port"]),
        key,
        state_dir=state,
        start_again=start_again,
    )


def boot_id(agent: Agent) -> int:
    match = re.findall(r"bootid (\d+)", agent.process.output())
    return int(match[-1])


@pytest.fixture
def agent(lan: Lan) -> Generator[Agent]:
    running = start_agent(lan)
    yield running
    if running.alive():
        running.kill()


# --- a board's file system in a directory, run by the loader, reset like a board ------------
# hal/unix.py reset() and the loader (firmware/main.py) exit with this status where a
# board would reset; a SupervisedAgent is started again then, like a board after reset.
RESET_EXIT_CODE = 1
# The .mpy bundle in a slot keeps its bytecode on the heap: the 32-bit build needs 112 KB
# (bench/firmware_heap.py); the frozen agent (no /ug/boot.json) fits in 64 KB.
SLOT_HEAP = "112wK"


class Board:
    """A directory standing in for a board's flash (fleet contract: /main.py, /config.json,
    /state/key, /ug/a, /ug/b, /ug/boot.json)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def provision(
        self, config: dict[str, Any], *, key: bytes | None = None, bundle: Path | None = None
    ) -> None:
        """What the provisioning command writes: the loader, the config, the key and
        (optionally) a bundle in slot a named by /ug/boot.json."""
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIRMWARE_DIR / "ugboot.py", self.root / "ugboot.py")
        shutil.copy(FIRMWARE_DIR / "main.py", self.root / "main.py")
        (self.root / "config.json").write_text(json.dumps(config))
        (self.root / "state").mkdir(exist_ok=True)
        if key is not None:
            (self.root / "state" / "key").write_text(base64.b64encode(key).decode())
        if bundle is not None:
            shutil.copytree(bundle, self.root / "ug" / "a")
            (self.root / "ug" / "boot.json").write_text(json.dumps({"slot": "a"}))

    def boot(self) -> dict[str, Any]:
        path = self.root / "ug" / "boot.json"
        loaded: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        return loaded

    def flash(self) -> dict[str, str]:
        """SHA-256 of every file an update may touch (/ug, /main.py, /ugboot.py), by path."""
        out = {}
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            loader = str(relative) in ("main.py", "ugboot.py")
            if path.is_file() and (relative.parts[0] == "ug" or loader):
                out[str(relative)] = sha256(path.read_bytes()).hexdigest()
        return out


class SupervisedAgent(Agent):
    """An agent started by the loader from a Board; when it resets (RESET_EXIT_CODE) a
    supervisor thread starts it again with the same arguments. Anything else (a SIGKILL,
    stop()) ends the supervision; restart() starts it again by hand."""

    def __init__(
        self,
        host: Host,
        board: Board,
        *,
        argv: list[str],
        config: dict[str, Any],
        port: int,
        key: bytes | None,
        cwd: str,
    ) -> None:
        self.host = host
        self.board = board
        self.argv = argv
        self.cwd = cwd
        self.resets = 0
        self._lock = threading.Lock()
        self._supervising = False
        self._thread: threading.Thread | None = None
        super().__init__(host, self._spawn(), config, port, key, state_dir=board.root / "state")
        self._supervise()

    def _spawn(self) -> Process:
        return self.host.start(*self.argv, label="agent", cwd=self.cwd)

    def _supervise(self) -> None:
        self._supervising = True
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            with self._lock:
                if not self._supervising:
                    return
                code = self.process.popen.poll()
                if code is not None and code != RESET_EXIT_CODE:
                    self._supervising = False
                    return
                if code == RESET_EXIT_CODE:
                    self.resets += 1
                    self.process = self._spawn()
            time.sleep(0.05)

    def unsupervise(self) -> None:
        """A reset is no longer followed by a start (the process is left as it is)."""
        with self._lock:
            self._supervising = False
        if self._thread is not None:
            self._thread.join(5)

    def output_all(self) -> str:
        """The console of every start of this board, oldest first."""
        runs = [p for p in self.host.processes if p.argv == self.argv]
        return "".join(p.output() for p in runs)

    def wait_ready(self, starts: int, timeout: float = READY_TIMEOUT) -> None:
        """Until `starts` starts of this board printed "agent ready"."""
        deadline = time.monotonic() + timeout
        while self.output_all().count("agent ready") < starts:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not {starts} starts:\n{self.output_all()[-3000:]}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int | None:
        self.unsupervise()
        return super().stop(timeout)

    def kill(self) -> None:
        self.unsupervise()
        super().kill()

    def restart(self) -> None:
        """Power on again after kill() (the loader runs; trial bookkeeping included)."""
        self.unsupervise()
        self.process = self._spawn()
        self._supervise()
        self.process.wait_for_output(r"agent ready", timeout=READY_TIMEOUT)


def start_board(
    lan: Lan,
    board: Board,
    name: str = "agent",
    *,
    host: Host | None = None,
    build: str = DEFAULT_BUILD,
    heap: str = SLOT_HEAP,
    log_level: str = "info",
    key: bytes | None = None,
) -> SupervisedAgent:
    """Run `board` like a board at power-on: its /main.py (the loader) with --root, the
    board's config (its http_port, else AGENT_HTTP_PORT), restarted on every reset."""
    binary = binary_for(build)
    host = host or lan.add_host(name)
    config = json.loads((board.root / "config.json").read_text())
    argv = [binary, "-X", f"heapsize={heap}", str(board.root / "main.py")]
    argv += ["--root", str(board.root), "--ip", f"{host.ip}/{host.network.prefixlen}"]
    argv += ["--log", log_level]
    agent = SupervisedAgent(
        host,
        board,
        argv=argv,
        config=config,
        port=int(config.get("http_port", AGENT_HTTP_PORT)),
        key=key,
        cwd=str(lan.workdir),
    )
    agent.process.wait_for_output(r"agent ready", timeout=READY_TIMEOUT)
    return agent
