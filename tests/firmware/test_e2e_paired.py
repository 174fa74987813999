"""Paired mode on the running agent (32-bit frozen build, 64 KB heap) on the simulated LAN:
the first-boot key line, attacks from another host refused with the pin unchanged,
signed control and subscriptions, signed NOTIFYs, stock clients still discover and read,
key rotation, reboots."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import pytest

from tests.firmware.e2e import (
    auth,
    description,
    exchange,
    notify_server,
    request,
    set_target,
    sign,
    soap,
    status,
    upnp_client_search,
    url_of,
)
from tests.lan import UPNP_CLIENT, Lan
from tests.lan.agent import PAIRED_CONFIG, boot_id, pairing_key_lines, start_agent

pytestmark = [pytest.mark.lan, pytest.mark.usefixtures("lan_sockets")]

AGENT_INFO = "urn:upnp-guard-org:service:AgentInfo:1"
KEY = bytes(range(32, 64))
NEW_KEY = bytes(range(200, 232))


def header_of(response: bytes, name: str) -> str | None:
    match = re.search(rb"(?im)^" + name.encode() + rb": *(\S*)\r$", response)
    return match.group(1).decode() if match else None


def test_attacks_from_another_host_are_refused_and_the_pin_stays(lan: Lan) -> None:
    agent = start_agent(lan, "board", PAIRED_CONFIG, key=KEY)
    home = lan.add_host("ha")
    attacker = lan.add_host("attacker")
    desc = description(attacker, agent)  # descriptions stay open
    boot = boot_id(agent)
    assert pairing_key_lines(agent.process.output()) == []  # provisioned: never printed
    # No authenticator: 401 with the challenge RFC 9110 asks for, nothing changes.
    refused = exchange(attacker, agent, set_target(agent, desc, 1))
    assert status(refused) == 401
    assert re.search(rb'(?im)^WWW-Authenticate: UG-AUTH realm="upnp-guard"\r$', refused)
    assert agent.pins()["5"] == 0
    # Home Assistant's signed request works; the attacker captures it on the wire.
    captured = sign(set_target(agent, desc, 1), KEY, boot, 5000)
    assert status(exchange(home, agent, captured)) == 200
    assert agent.pins()["5"] == 1
    assert status(exchange(home, agent, sign(set_target(agent, desc, 0), KEY, boot, 5001))) == 200
    assert agent.pins()["5"] == 0
    # Replayed as captured, from the attacker's host: refused, the highest counter told.
    replayed = exchange(attacker, agent, captured)
    assert status(replayed) == 401
    assert header_of(replayed, "UG-AUTH-LAST") == "5001"
    assert agent.pins()["5"] == 0
    # Tampered body: the signed request for 0, its argument changed to 1 (same length).
    tampered = sign(set_target(agent, desc, 0), KEY, boot, 5002).replace(
        b"<newTargetValue>0<", b"<newTargetValue>1<"
    )
    assert status(exchange(attacker, agent, tampered)) == 401
    # A stale counter (below the replay window) and the last boot's id.
    stale = exchange(attacker, agent, sign(set_target(agent, desc, 1), KEY, boot, 4000))
    assert status(stale) == 401
    old_boot = exchange(attacker, agent, sign(set_target(agent, desc, 1), KEY, boot - 1, 6000))
    assert status(old_boot) == 401
    assert header_of(old_boot, "UG-AUTH-BOOT") == str(boot)
    assert agent.pins()["5"] == 0
    # A SUBSCRIBE without an authenticator.
    path = url_of(desc, "eventSubURL", "SwitchPower")
    sub = request(
        agent, "SUBSCRIBE", path, {"NT": "upnp:event", "CALLBACK": f"<http://{attacker.ip}:80/>"}
    )
    assert status(exchange(attacker, agent, sub)) == 401
    stats = agent.stats()
    assert stats["subscriptions"] == 0
    assert stats["auth_refused"] == {"missing": 2, "replayed": 2, "bad_mac": 1, "wrong_boot": 1}
    # The attacker spent its failure budget (3 so far, 5 allowed): then 429, still no change.
    for _ in range(2):
        assert status(exchange(attacker, agent, set_target(agent, desc, 1))) == 401
    assert status(exchange(attacker, agent, set_target(agent, desc, 1))) == 429
    assert agent.pins()["5"] == 0
    # Home Assistant is not affected.
    assert status(exchange(home, agent, sign(set_target(agent, desc, 1), KEY, boot, 7000))) == 200
    assert agent.pins()["5"] == 1


def test_signed_subscription_gets_signed_notify(lan: Lan) -> None:
    agent = start_agent(lan, "board", PAIRED_CONFIG, key=KEY)
    home = lan.add_host("ha")
    desc = description(home, agent)
    boot = boot_id(agent)
    path = url_of(desc, "eventSubURL", "SwitchPower")
    with notify_server(home, 8123) as received:
        sub = request(
            agent, "SUBSCRIBE", path, {"NT": "upnp:event", "CALLBACK": f"<http://{home.ip}:8123/>"}
        )
        response = exchange(home, agent, sign(sub, KEY, boot, 1))
        assert status(response) == 200
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert received, "no NOTIFY"
    head, _, body = received[0].partition(b"\r\n\r\n")
    sid = header_of(head + b"\r\n", "SID")
    assert sid == header_of(response, "SID")
    value = re.search(rb"(?im)^UG-AUTH: ([^\r]*)", head)
    assert value is not None, head
    expected = auth.event_header(auth.Key(KEY), sid, 0, boot, body)
    assert value.group(1).decode() == expected
    # Signed with another key it would not match: the MAC covers the key.
    assert auth.event_header(auth.Key(NEW_KEY), sid, 0, boot, body) != expected


def test_stock_client_discovers_and_reads_but_cannot_control(lan: Lan) -> None:
    agent = start_agent(lan, "board", PAIRED_CONFIG, key=KEY)
    pc = lan.add_host("pc")
    found = upnp_client_search(pc)
    assert agent.description_url in found.stdout, found.stdout + found.stderr
    gssdp = pc.run(
        "gssdp-discover",
        "-i",
        "eth0",
        "-t",
        "urn:upnp-guard-org:device:Agent:1",
        "-n",
        "5",
        timeout=60,
        check=False,
    )
    assert agent.description_url in gssdp.stdout, gssdp.stdout + gssdp.stderr
    read = pc.run(
        *UPNP_CLIENT, "call-action", agent.description_url, "SwitchPower/GetStatus", timeout=60
    )
    assert json.loads(read.stdout)["out_parameters"]["ResultStatus"] is False
    info = pc.run(
        *UPNP_CLIENT, "call-action", agent.description_url, "AgentInfo/GetInfo", timeout=60
    )
    assert json.loads(info.stdout)["out_parameters"]["SecurityMode"] == "paired"
    control = pc.run(
        *UPNP_CLIENT,
        "call-action",
        agent.description_url,
        "SwitchPower/SetTarget",
        "newTargetValue=1",
        timeout=60,
        check=False,
    )
    assert '"out_parameters"' not in control.stdout, control.stdout
    assert agent.pins()["5"] == 0
    assert agent.stats()["auth_refused"] == {"missing": 1}


def test_first_boot_key_rotation_and_reboots(lan: Lan, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = start_agent(lan, "board", PAIRED_CONFIG, state_dir=state)
    home = lan.add_host("ha")
    # First boot: the key is printed once, in the config flow's format, and stored.
    lines = pairing_key_lines(first.process.output())
    assert len(lines) == 1
    assert lines[0][0] == "Test agent"
    key = first.pairing_key
    assert len(key) == 32
    assert (state / "key").read_text() == base64.b64encode(key).decode()
    desc = description(home, first)
    boot = boot_id(first)
    assert status(exchange(home, first, sign(set_target(first, desc, 1), key, boot, 10))) == 200
    first.stop()
    # Reboot: no key line again, a new boot id; the old boot id is refused, the new works.
    second = start_agent(lan, "board2", PAIRED_CONFIG, state_dir=state, host=first.host)
    assert pairing_key_lines(second.process.output()) == []
    assert boot_id(second) == boot + 1
    desc = description(home, second)
    old = exchange(home, second, sign(set_target(second, desc, 1), key, boot, 11))
    assert status(old) == 401
    assert header_of(old, "UG-AUTH-BOOT") == str(boot + 1)
    boot += 1
    assert status(exchange(home, second, sign(set_target(second, desc, 1), key, boot, 1))) == 200
    assert second.pins()["5"] == 1
    # Rotation: SetKey carries the new key sealed for that request (boot id, counter 2).
    sealed = auth.Key(key).wrap(NEW_KEY, boot, 2).hex()
    set_key = soap(second, desc, AGENT_INFO, "SetKey", f"<NewSealedKey>{sealed}</NewSealedKey>")
    assert status(exchange(home, second, sign(set_key, key, boot, 2))) == 200
    assert (state / "key").read_text() == base64.b64encode(NEW_KEY).decode()
    assert status(exchange(home, second, sign(set_target(second, desc, 0), key, boot, 3))) == 401
    assert second.pins()["5"] == 1
    assert (
        status(exchange(home, second, sign(set_target(second, desc, 0), NEW_KEY, boot, 4))) == 200
    )
    assert second.pins()["5"] == 0
    assert "pairing key for" not in second.process.output()
    second.stop()
    # After another reboot the rotated key is the one in use.
    third = start_agent(lan, "board3", PAIRED_CONFIG, state_dir=state, host=first.host)
    boot += 1
    assert boot_id(third) == boot
    desc = description(home, third)
    assert status(exchange(home, third, sign(set_target(third, desc, 1), key, boot, 1))) == 401
    assert status(exchange(home, third, sign(set_target(third, desc, 1), NEW_KEY, boot, 2))) == 200
    assert third.pins()["5"] == 1
