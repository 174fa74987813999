"""Helpers of the over-the-air update tests: bundles to update to, a board provisioned
with the version that runs, and a control point that speaks the update protocol directly
(docs/protocol.md "Updates"), signing like Home Assistant or with any key a test wants."""

from __future__ import annotations

import base64
import itertools
import re
import shutil
from pathlib import Path
from typing import Any

from upnp_guard_fleet.bundle import build_bundle

from custom_components.upnp_guard.agent_auth import AgentKey
from custom_components.upnp_guard.appliance import bundle as bundles
from tests.firmware.e2e import description, exchange, sign, soap, status
from tests.lan import Host
from tests.lan.agent import Agent, Board, boot_id

REPO = Path(__file__).resolve().parents[2]
AGENT_INFO = "urn:upnp-guard-org:service:AgentInfo:1"
KEY = bytes(range(40, 72))
OLD = "0.1.0"
NEW = "0.2.0"
# One relay: a single GENA subscription, the quickest board to pair and reconnect.
BOARD_CONFIG: dict[str, Any] = {
    "friendly_name": "Shed agent",
    "security_mode": "paired",
    "services": [{"kind": "switch", "name": "relay", "friendly_name": "Relay", "pin": 5}],
}


def build(out: Path, version: str, *, broken: bool = False, confirm_s: int | None = None) -> Path:
    """A bundle of the firmware as it is; `broken`: its agent module raises at import;
    `confirm_s`: its UPDATE_CONFIRM_S (the deadline for its own confirmation)."""
    if not broken and confirm_s is None:
        return build_bundle(REPO / "firmware", out, version=version)
    variant = "broken" if broken else f"confirm{confirm_s}"
    copy = out / f"src-{variant}-{version}"
    shutil.copytree(REPO / "firmware", copy)
    if broken:
        agent = copy / "upnpguard" / "agent.py"
        agent.write_text(agent.read_text() + '\nraise RuntimeError("broken on purpose")\n')
    if confirm_s is not None:
        limits = copy / "upnpguard" / "limits.py"
        text, count = re.subn(
            r"UPDATE_CONFIRM_S = const\(\d+\)", f"UPDATE_CONFIRM_S = const({confirm_s})",
            limits.read_text(),
        )  # fmt: skip
        assert count == 1
        limits.write_text(text)
    return build_bundle(copy, out / variant, version=version)


def provision(root: Path, bundle: Path, config: dict[str, Any] | None = None) -> Board:
    board = Board(root)
    board.provision(dict(config or BOARD_CONFIG), key=KEY, bundle=bundle)
    return board


class UpdateClient:
    """A control point on `host` sending the update actions to `agent`, signed with
    `key` (the board's by default) and the agent's current boot id."""

    def __init__(self, host: Host, agent: Agent, key: bytes | None = KEY) -> None:
        self.host = host
        self.agent = agent
        self.key = key
        self.counter = itertools.count(10_000)
        self.desc = description(host, agent)

    def call(self, action: str, args: str = "", service: str = AGENT_INFO) -> bytes:
        raw = soap(self.agent, self.desc, service, action, args)
        if self.key is not None:
            raw = sign(raw, self.key, boot_id(self.agent), next(self.counter))
        return exchange(self.host, self.agent, raw)

    def info(self) -> dict[str, str]:
        response = self.call("GetInfo")
        assert status(response) == 200, response[:300]
        return dict(re.findall(r"<(\w+)>([^<]*)</\1>", response.decode()))

    def begin(self, bundle: bundles.Bundle, *, auth_key: bytes = KEY, force: bool = False) -> bytes:
        mac = bundles.update_auth(AgentKey(auth_key), bundle.version, bundle.digest)
        return self.call(
            "BeginUpdate",
            f"<NewVersion>{bundle.version}</NewVersion><NewDigest>{bundle.digest}</NewDigest>"
            f"<NewAuth>{mac}</NewAuth><NewForce>{int(force)}</NewForce>",
        )

    def write(self, path: str, offset: int, data: str) -> bytes:
        return self.call(
            "WriteUpdate",
            f"<NewPath>{path}</NewPath><NewOffset>{offset}</NewOffset><NewData>{data}</NewData>",
        )

    def send_all(
        self, bundle: bundles.Bundle, files: list[tuple[str, bytes]], *, stop_after: int = -1
    ) -> bytes:
        """Every WriteUpdate (the first `stop_after` only, if given); the last answer."""
        response = b""
        for index, (path, offset, data) in enumerate(bundles.chunks(bundle, files)):
            if index == stop_after:
                break
            response = self.write(path, offset, data)
            if status(response) != 200:
                return response
        return response


def fault(response: bytes) -> int | None:
    match = re.search(rb"<errorCode>(\d+)</errorCode>", response)
    return int(match.group(1)) if match else None


def corrupt(files: list[tuple[str, bytes]], path: str) -> list[tuple[str, bytes]]:
    """The same files, the one at `path` with one byte flipped (its size unchanged)."""
    return [
        (name, bytes([data[0] ^ 0xFF]) + data[1:] if name == path else data) for name, data in files
    ]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
