"""The simulated home of `scripts/develop`, built on the test LAN (tests/lan).

    router    miniupnpd (IGD:2, secure mode) with one suspicious mapping: the "pc" host
              opened RDP (3389) to the internet with a permanent lease
    light     our agent, frozen firmware: a dimmable lamp with a button (the "Hall light")
    climate   our agent: a temperature/humidity sensor with a window contact
              (both paired, the firmware's default: each has its key in its state dir,
              kept across starts, made at random on the first one; `Home.keys`)
    stock     a third-party DimmableLight:1 (async-upnp-client's server classes)
    ha        the host Home Assistant runs on (tests/demo/hass.py starts it)

Every process runs in a namespace of one `Lan`; `Home.close()` removes them all.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
from collections.abc import Callable
from pathlib import Path

from tests.firmware.e2e import description, exchange, sign, soap, status
from tests.lan import Host, Lan, Process, Router
from tests.lan.agent import SERVICES, Agent, board_config, boot_id, start_agent

STOCK_SCRIPT = Path(__file__).resolve().parents[1] / "integration" / "lan_dimmable_light.py"
STOCK_UDN = "uuid:5d0b6c7e-1f2a-4b3c-8d4e-acme00000001"
STOCK_PORT = "49152"
# The suspicious mapping: remote desktop, reachable from the internet, never expiring.
SUSPICIOUS_PORT = 3389
SUSPICIOUS_DESCRIPTION = "Remote Desktop"
LAMP_LEVEL = 80

DIMMING = "urn:schemas-upnp-org:service:Dimming:1"
KEY_BYTES = 32

# Paired, as boards ship: the user pairs them in Home Assistant with the printed keys.
LIGHT_CONFIG = board_config(
    "Hall light",
    "lamp",
    {**SERVICES["doorbell"], "friendly_name": "Button"},
    security_mode="paired",
)
CLIMATE_CONFIG = board_config("Climate board", "climate", "window", security_mode="paired")


class Home:
    """Build with `Home(lan, state_dir)`, then `start()`; always `close()` the `Lan`."""

    def __init__(self, lan: Lan, state_dir: Path) -> None:
        self.lan = lan
        self.state_dir = state_dir
        self.router: Router | None = None
        self.ha: Host | None = None
        self.agents: dict[str, Agent] = {}
        # Each agent's pairing key (base64, as the pair step asks for it), by name.
        self.keys: dict[str, str] = {}
        self.stock: Process | None = None

    def start_network(self) -> Host:
        """The router and the host for Home Assistant (started first: it is the slowest)."""
        self.router = self.lan.add_router()
        self.router.start_miniupnpd(
            secure_mode=True, extra_options={"friendly_name": "Home router"}
        )
        self.ha = self.lan.add_host("ha")
        return self.ha

    def start_devices(self, progress: Callable[[str], None] = lambda _: None) -> None:
        assert self.router is not None, "start_network() first"
        progress("suspicious port mapping from a LAN host")
        pc = self.lan.add_host("pc")
        pc.run(
            "upnpc",
            "-u",
            self.router.description_url,
            "-e",
            SUSPICIOUS_DESCRIPTION,
            "-a",
            pc.ip,
            str(SUSPICIOUS_PORT),
            str(SUSPICIOUS_PORT),
            "TCP",
            "0",
            timeout=120,
        )
        progress("agents (frozen firmware)")
        for name, config in (("light", LIGHT_CONFIG), ("climate", CLIMATE_CONFIG)):
            # Same state directory on every start: same UDNs, the boot id goes up.
            state = self.state_dir / f"{name}-state"
            state.mkdir(parents=True, exist_ok=True)
            key = board_key(state)
            self.agents[name] = start_agent(self.lan, name, config, state_dir=state, key=key)
            self.keys[name] = base64.b64encode(key).decode()
        self.agents["climate"].set_sensor("climate", temperature=21.0, humidity=45.0)
        # A dimmer boots at level 0 (on would stay dark): a control point on the LAN that
        # holds the board's key sets the level a lamp was left at, signed (UG-AUTH).
        self._set_lamp_level(pc, self.agents["light"], self.keys["light"])
        progress("stock dimmable light")
        stock_host = self.lan.add_host("stock")
        self.stock = stock_host.start(
            sys.executable, str(STOCK_SCRIPT), stock_host.ip, STOCK_PORT, STOCK_UDN, "1"
        )
        self.stock.wait_for_output(r"ready", timeout=60)

    @staticmethod
    def _set_lamp_level(pc: Host, lamp: Agent, key: str) -> None:
        desc = description(pc, lamp)
        raw = soap(
            lamp,
            desc,
            DIMMING,
            "SetLoadLevelTarget",
            f"<newLoadlevelTarget>{LAMP_LEVEL}</newLoadlevelTarget>",
        )
        # Counter 1: above nothing this boot accepted; Home Assistant's counters (its
        # clock in milliseconds) are far above it.
        signed = sign(raw, base64.b64decode(key), boot_id(lamp), 1)
        answer = exchange(pc, lamp, signed)
        if status(answer) != 200:
            raise RuntimeError(f"the lamp refused its level: {answer[:200]!r}")

    @property
    def discoverable(self) -> list[str]:
        """The devices UPnP Guard is offered: router, agents, stock light."""
        return ["router", *self.agents, "stock"]

    def agent(self, name: str) -> Agent:
        return self.agents[name]


def board_key(state: Path) -> bytes:
    """The agent's key as its state dir holds it (kept across starts, also after a
    rotation from Home Assistant's options), else a new random one."""
    path = state / "key"
    if path.exists():
        try:
            key = base64.b64decode(path.read_text().strip(), validate=True)
        except binascii.Error:
            key = b""
        if len(key) == KEY_BYTES:
            return key
    return os.urandom(KEY_BYTES)
