"""Start and stop the demo of scripts/develop (tests/demo) as a process, for tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.demo.__main__ import clean_leftovers
from tests.demo.hass import Client

REPO = Path(__file__).resolve().parents[2]
# Bounds for waiting (two shared cores), never timing checks.
DEMO_START_S = 300.0
DEMO_STOP_S = 60.0


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    url: str
    pins: Path
    client: Client
    state: Path
    log: Path
    prefix: str
    keys: dict[str, str]  # pairing key by agent friendly name, as the demo prints them

    def states(self) -> dict[str, dict[str, Any]]:
        return {s["entity_id"]: s for s in self.client.ws({"type": "get_states"})[0]}


def namespaces(prefix: str) -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in listing.stdout.splitlines() if line.startswith(prefix)]


def launch(state: Path, log_name: str = "develop.log") -> tuple[subprocess.Popen[bytes], Path]:
    log = state / log_name
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "tests.demo", "--port", "0", "--no-drift"),
                *("--state", str(state), "--ready-file", str(state / "ready.json")),
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def start_demo(state: Path, log_name: str = "develop.log") -> Demo:
    """Start the demo with its state in `state`; wait until it is ready."""
    if os.geteuid() != 0:
        pytest.skip("the demo needs root (network namespaces)")
    ready = state / "ready.json"
    ready.unlink(missing_ok=True)
    process, log = launch(state, log_name)
    deadline = time.monotonic() + DEMO_START_S
    while not ready.exists() or not ready.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            clean_leftovers(state / "running.json")
            pytest.fail(f"the demo did not come up:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    info = json.loads(ready.read_text())
    prefix = json.loads((state / "running.json").read_text())["prefix"]
    client = Client(int(info["url"].rsplit(":", 1)[1]))
    client.token = info["token"]
    return Demo(
        process, info["url"], Path(info["pins"]), client, state, log, prefix, dict(info["keys"])
    )


def stop_demo(demo: Demo) -> int:
    """SIGINT, what Ctrl-C sends; the exit status. A demo that hangs is killed and its
    leftovers removed (as the next scripts/develop would), then TimeoutExpired raised."""
    demo.process.send_signal(signal.SIGINT)
    try:
        return demo.process.wait(DEMO_STOP_S)
    except subprocess.TimeoutExpired:
        demo.process.kill()
        demo.process.wait()
        clean_leftovers(demo.state / "running.json")
        raise
