"""Home Assistant for `scripts/develop`: config directory, process, port forward, onboarding.

Home Assistant runs inside the simulated LAN (its own namespace, eth0 on the LAN bridge),
so SSDP, SOAP and GENA work exactly as in the end-to-end tests. The browser on the
machine reaches it through `PortForward`: a listening socket opened on 127.0.0.1 in the
machine's namespace, whose connections are relayed from inside Home Assistant's namespace
to 127.0.0.1:8123 there. Nothing is routed between the LAN and the machine, no veth and
no nftables rule touch the machine's own network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import shutil
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from tests.lan import Host, Process

HA_PORT = 8123
# The documented local demo user (README): created by the onboarding below.
DEMO_NAME = "Demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "upnp-guard-demo"  # noqa: S105 - a local demo account, printed at start
# Home Assistant's first start on two shared cores takes about a minute.
START_TIMEOUT_S = 300.0
HTTP_TIMEOUT_S = 30.0

CONFIGURATION_YAML = """\
# Written by scripts/develop on every start (tests/demo/hass.py).
homeassistant:
  name: UPnP Guard demo
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: DE
  latitude: 52.52
  longitude: 13.40
  elevation: 34
# What the demo needs of default_config: the UI, history and logbook, SSDP discovery.
frontend:
config:
history:
logbook:
ssdp:
system_health:
logger:
  default: warning
  logs:
    custom_components.upnp_guard: info
    homeassistant.setup: info
"""


def prepare_config(config_dir: Path, repo: Path) -> None:
    """A fresh config directory with the integration linked from the working tree."""
    shutil.rmtree(config_dir, ignore_errors=True)
    (config_dir / "custom_components").mkdir(parents=True)
    (config_dir / "custom_components" / "upnp_guard").symlink_to(
        repo / "custom_components" / "upnp_guard", target_is_directory=True
    )
    (config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML)


def start_home_assistant(host: Host, config_dir: Path) -> Process:
    # --skip-pip: every requirement is pinned in the environment scripts/setup built.
    return host.start(
        sys.executable,
        "-m",
        "homeassistant",
        "--config",
        str(config_dir),
        "--skip-pip",
        label="home-assistant",
    )


class PortForward:
    """127.0.0.1:<port> on this machine -> 127.0.0.1:`target_port` inside `netns`."""

    def __init__(self, netns: str, target_port: int, port: int = HA_PORT) -> None:
        self.netns = netns
        self.target_port = target_port
        # Opened here, in the machine's namespace, before the relay thread leaves it.
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="port-forward", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        target = os.open(f"/run/netns/{self.netns}", os.O_RDONLY)
        try:
            os.setns(target, os.CLONE_NEWNET)  # this thread only
        finally:
            os.close(target)
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._relay, sock=self._listener)
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)
        self._listener.close()


class Client:
    """Plain HTTP to Home Assistant through the port forward (onboarding, checks)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.client_id = f"{self.base}/"
        self.token: str | None = None

    def request(self, method: str, path: str, body: Any = None, *, form: bool = False) -> Any:
        headers = {}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + path, data=data, headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
            raw = response.read()
        return json.loads(raw) if raw else None

    def wait_until_up(self, process: Process, timeout: float = START_TIMEOUT_S) -> None:
        """Until the onboarding API answers (the HTTP server and onboarding are set up)."""
        deadline = time.monotonic() + timeout
        while True:
            if process.popen.poll() is not None:
                raise RuntimeError(
                    f"Home Assistant exited ({process.popen.returncode}):\n"
                    f"{process.output()[-3000:]}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                self.request("GET", "/api/onboarding")
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"Home Assistant did not answer in {timeout} s")
            time.sleep(0.5)

    def onboard(self) -> None:
        """The onboarding a new user clicks through, done with the documented demo user."""
        code = self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": DEMO_NAME,
                "username": DEMO_USER,
                "password": DEMO_PASSWORD,
                "language": "en",
            },
        )["auth_code"]
        tokens = self.request(
            "POST",
            "/auth/token",
            {"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
            form=True,
        )
        self.token = tokens["access_token"]
        self.request("POST", "/api/onboarding/core_config", {})
        self.request("POST", "/api/onboarding/analytics", {})
        self.request(
            "POST",
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": f"{self.base}/?auth_callback=1"},
        )

    def onboarded(self) -> bool:
        steps = self.request("GET", "/api/onboarding")
        return all(step["done"] for step in steps)

    def tidy_after_onboarding(self) -> None:
        """Remove what onboarding sets up that this environment cannot run.

        Onboarding adds Google Translate text-to-speech (which needs the internet and
        gTTS) and a shopping list: entries that would show up failed or unrelated.
        """
        for entry in self.request("GET", "/api/config/config_entries/entry"):
            if entry.get("source") == "onboarding":
                self.request("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")

    def ignore_core_install_notice(self) -> None:
        """Dismiss Home Assistant's notice that Core in a virtualenv is deprecated.

        The demo runs Home Assistant Core in the sandbox's virtualenv on purpose; the
        notice would be the first thing under Repairs, above UPnP Guard's issues.
        """
        issues = self.ws({"type": "repairs/list_issues"})[0]["issues"]
        for issue in issues:
            if issue["domain"] == "homeassistant" and issue["issue_id"].startswith("deprecated"):
                self.ws(
                    {
                        "type": "repairs/ignore_issue",
                        "domain": "homeassistant",
                        "issue_id": issue["issue_id"],
                        "ignore": True,
                    }
                )

    def flows(self, domain: str) -> list[dict[str, Any]]:
        """Config flows in progress for `domain` (the discovered devices)."""
        progress = self.ws({"type": "config_entries/flow/progress"})[0]
        return [flow for flow in progress if flow["handler"] == domain]

    def ws(self, *commands: dict[str, Any]) -> list[Any]:
        """Send websocket commands in order; their results (an error raises)."""

        async def exchange() -> list[Any]:
            url = self.base.replace("http://", "ws://") + "/api/websocket"
            timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.ws_connect(url) as socket_,
            ):
                await socket_.receive_json()  # auth_required
                await socket_.send_json({"type": "auth", "access_token": self.token})
                if (await socket_.receive_json()).get("type") != "auth_ok":
                    raise RuntimeError("websocket authentication failed")
                results = []
                for ident, command in enumerate(commands, 1):
                    await socket_.send_json({"id": ident, **command})
                    while (reply := await socket_.receive_json()).get("id") != ident:
                        pass
                    if not reply.get("success", False):
                        raise RuntimeError(f"{command['type']}: {reply.get('error')}")
                    results.append(reply.get("result"))
                return results

        # A thread of its own: the caller's thread may run an event loop (Playwright's).
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, exchange()).result()
