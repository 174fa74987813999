"""`scripts/develop`: real Home Assistant with UPnP Guard and a simulated home.

    python -m tests.demo [--port 8123] [--no-drift] [--ready-file PATH]
    python -m tests.demo pins press | window open|closed | climate <C> <%RH> | show

Runs as root inside the environment scripts/setup built (scripts/develop enters it).
Ctrl-C (or SIGTERM) stops every process and deletes every namespace. What a killed run
left behind (recorded in <state>/running.json: namespaces and processes) is removed at
the next start; a second demo while one runs is refused.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from tests.lan import Lan

from . import pins
from .hass import (
    DEMO_PASSWORD,
    DEMO_USER,
    HA_PORT,
    Client,
    PortForward,
    prepare_config,
    start_home_assistant,
)
from .home import SUSPICIOUS_PORT, Home

REPO = Path(__file__).resolve().parents[2]
LEFTOVER_WAIT_S = 10.0


def default_state_dir() -> Path:
    """Under the sandbox (its root file system) or, on a prepared host, under .venv."""
    if os.environ.get("UPNP_GUARD_ENV") == "sandbox":
        return Path("/var/lib/upnp-guard/develop")
    return REPO / ".venv" / "develop"


def say(text: str) -> None:
    print(f"[develop] {text}", flush=True)


# -- leftovers of a run that did not clean up (killed, machine crash) --------------------
def _start_time(pid: int) -> str | None:
    """The kernel's start time of `pid`: tells a recorded process from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _record(path: Path, lan: Lan) -> None:
    pids = [proc.pid for host in lan.hosts.values() for proc in host.processes]
    record = {
        "develop": [os.getpid(), _start_time(os.getpid())],
        "prefix": lan.prefix,
        "pids": [[pid, _start_time(pid)] for pid in pids],
    }
    path.write_text(json.dumps(record))


def clean_leftovers(path: Path) -> None:
    if not path.exists():
        return
    try:
        record = json.loads(path.read_text())
        develop_pid, develop_start = record["develop"]
        prefix = str(record["prefix"])
        recorded = [(int(pid), start) for pid, start in record["pids"]]
    except ValueError, KeyError, TypeError:
        path.unlink()
        return
    if develop_start is not None and _start_time(int(develop_pid)) == develop_start:
        raise SystemExit(f"a demo is running already (pid {develop_pid}): stop it first")
    say(f"removing what the last run left behind ({prefix})")
    alive = [pid for pid, start in recorded if start is not None and _start_time(pid) == start]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # Until they are reaped: miniupnpd refuses to start while its pid file names a
    # process that still exists (a zombie too).
    deadline = time.monotonic() + LEFTOVER_WAIT_S
    while any(_start_time(pid) is not None for pid in alive) and time.monotonic() < deadline:
        time.sleep(0.05)
    names = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=False, timeout=30
    ).stdout.split("\n")
    for name in (line.split()[0] for line in names if line.strip()):
        if name.startswith(f"{prefix}-"):
            for pid in subprocess.run(
                ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
            ).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    path.unlink()


# -- the demo ------------------------------------------------------------------------------
def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def wait_for_frontend(client: Client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(client.base + "/", timeout=10) as page,  # noqa: S310
        ):
            if page.status == 200 and b"<html" in page.read(4096).lower():
                return
        if time.monotonic() > deadline:
            raise TimeoutError("the frontend did not answer")
        time.sleep(0.5)


def wait_for_discovery(client: Client, count: int, timeout: float = 120.0) -> None:
    """Until SSDP discovery offered every simulated device to UPnP Guard."""
    deadline = time.monotonic() + timeout
    while len(client.flows("upnp_guard")) < count:
        if time.monotonic() > deadline:
            say(f"only {len(client.flows('upnp_guard'))} of {count} devices discovered so far")
            return
        time.sleep(1)


def run(args: argparse.Namespace) -> int:
    started = args.t0 or time.time()
    state: Path = args.state
    state.mkdir(parents=True, exist_ok=True)
    record = state / "running.json"
    clean_leftovers(record)
    # Installed, not inherited: a shell starting the demo in the background would
    # otherwise have it ignore SIGINT (Ctrl-C, the browser test's stop).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    logs = state / "logs"
    subprocess.run(["rm", "-rf", str(logs)], check=False)
    logs.mkdir()
    lan = Lan(workdir=logs)
    _record(record, lan)
    forward: PortForward | None = None
    driver: pins.PinDriver | None = None
    try:
        home = Home(lan, state)
        ha_host = home.start_network()
        config_dir = state / "config"
        prepare_config(config_dir, REPO)
        hass = start_home_assistant(ha_host, config_dir)
        _record(record, lan)
        say(f"Home Assistant starting in namespace {ha_host.netns} ({ha_host.ip})")
        forward = PortForward(ha_host.netns, HA_PORT, args.port)
        home.start_devices(lambda step: say(f"simulated home: {step}"))
        _record(record, lan)
        client = Client(forward.port)
        client.wait_until_up(hass)
        client.onboard()
        wait_for_frontend(client)
        seconds = time.time() - started
        wait_for_discovery(client, len(home.discoverable))
        discovered = time.time() - started
        # Seconds after onboarding: what its flows created exists by now.
        client.tidy_after_onboarding()
        client.ignore_core_install_notice()
        driver = pins.PinDriver(home.agent("light"), home.agent("climate"), state / "pins.sock")
        driver.start(drift=not args.no_drift)
        url = f"http://127.0.0.1:{forward.port}"
        say(f"ready in {seconds:.0f} s: {url} (devices discovered after {discovered:.0f} s)")
        say(f"  user: {DEMO_USER}   password: {DEMO_PASSWORD}")
        keys = {
            str(home.agent(name).config["friendly_name"]): key for name, key in home.keys.items()
        }
        say("  pairing keys (the Pair step asks for them when you add an agent):")
        for friendly_name, key in keys.items():
            say(f"    {friendly_name}: {key}")
        say(
            "  Settings -> Devices & services: the agents, the stock light and the router "
            f"are discovered; the router holds a suspicious mapping (TCP {SUSPICIOUS_PORT})"
        )
        say("  scripts/develop pins press | window open|closed | climate 23.5 48 | show")
        say(f"  config: {config_dir} (new on every start); logs: {logs}")
        say("  Ctrl-C stops everything")
        if args.ready_file:
            args.ready_file.touch(mode=0o600)
            args.ready_file.write_text(
                json.dumps(
                    {
                        "url": url,
                        "seconds": seconds,
                        "discovered": discovered,
                        "pins": str(driver.socket_path),
                        "token": client.token,
                        "keys": keys,
                    }
                )
            )
        while hass.popen.poll() is None:
            time.sleep(1)
        say(f"Home Assistant exited ({hass.popen.returncode}); log: {hass.log_path}")
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if driver is not None:
            driver.close()
        if forward is not None:
            forward.close()
        lan.close()
        record.unlink(missing_ok=True)
        say("stopped: processes and namespaces removed")


def main(argv: list[str]) -> int:
    if argv[:1] == ["pins"]:
        return pins.main(default_state_dir() / "pins.sock", argv[1:])
    parser = argparse.ArgumentParser(prog="scripts/develop", description=__doc__)
    parser.add_argument("--port", type=int, default=HA_PORT, help="port on 127.0.0.1")
    parser.add_argument("--state", type=Path, default=default_state_dir())
    parser.add_argument("--no-drift", action="store_true", help="no automatic pin changes")
    parser.add_argument("--ready-file", type=Path, help="write URL and timing here when up")
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
