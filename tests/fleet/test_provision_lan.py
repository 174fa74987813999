"""A provisioned board boots: the agent runs from what upnp-guard-provision wrote into a
directory standing in for the flash (the bundle in /ug/a, /config.json, /state/key) and
uses the provisioned key (it prints none of its own, and a request signed with the key
the tool printed is obeyed; one signed with another key is refused)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from upnp_guard_fleet.provision import main

from tests.firmware.e2e import description, exchange, set_target, sign, status
from tests.fleet.build_fixtures import built_bundle, lan_sockets  # noqa: F401 - fixtures
from tests.lan import Lan
from tests.lan.agent import boot_id, pairing_key_lines, start_agent

pytestmark = pytest.mark.lan

REPO = Path(__file__).resolve().parents[2]


def test_provisioned_board_runs_with_the_printed_key(
    lan: Lan,
    lan_sockets: None,
    built_bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = {
        "friendly_name": "Provisioned board",
        "services": [{"kind": "switch", "name": "relay", "friendly_name": "Relay", "pin": 5}],
    }
    config_path = tmp_path / "board.json"
    config_path.write_text(json.dumps(config))
    flash = tmp_path / "flash"
    args = ["--bundle", str(built_bundle), "--config", str(config_path), "--wifi-ssid", "Home",
            "--wifi-password", "correct horse", "--target-dir", str(flash)]  # fmt: skip
    assert main(args) == 0
    [(name, text)] = re.findall(r"pairing key for (.*): (\S+)", capsys.readouterr().out)
    assert name == "Provisioned board"
    key = base64.b64decode(text)
    board_config = json.loads((flash / "config.json").read_text())
    agent = start_agent(
        lan, config=board_config, build="mpy", bundle=flash / "ug" / "a", state_dir=flash / "state"
    )
    assert pairing_key_lines(agent.process.output()) == []  # it loaded the provisioned key
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    set_on = set_target(agent, desc, 1)
    boot = boot_id(agent)
    refused = exchange(pc, agent, sign(set_on, bytes(32), boot, 1))
    assert status(refused) != 200
    assert agent.pins()["5"] == 0
    assert status(exchange(pc, agent, sign(set_on, key, boot, 2))) == 200
    assert agent.pins()["5"] == 1
    agent.stop()
