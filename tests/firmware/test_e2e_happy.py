"""End to end on the simulated LAN: the agent under MicroPython (64 KB-class heap),
checked with third-party control points (async-upnp-client, gssdp)."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from async_upnp_client.aiohttp import AiohttpRequester
from async_upnp_client.client_factory import UpnpFactory

from tests.firmware.e2e import upnp_client_search
from tests.lan import UPNP_CLIENT, Lan
from tests.lan.agent import Agent, start_agent

pytestmark = pytest.mark.lan


def test_upnp_client_search_finds_agent(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    result = upnp_client_search(pc)
    lines = [
        {key.lower(): value for key, value in json.loads(line).items()}
        for line in result.stdout.splitlines()
        if line.startswith("{")
    ]
    found = [entry for entry in lines if entry.get("location") == agent.description_url]
    assert found, result.stdout + result.stderr
    assert found[0]["st"] == "urn:upnp-guard-org:device:Agent:1"
    assert found[0]["bootid.upnp.org"] == "1"
    assert re.fullmatch(r"\d+", found[0]["configid.upnp.org"])


def test_call_action_switches_pin(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    assert agent.pins()["5"] == 0
    result = pc.run(
        *UPNP_CLIENT,
        "--strict",
        "call-action",
        agent.description_url,
        "SwitchPower/SetTarget",
        "newTargetValue=1",
        timeout=60,
    )
    assert "SetTarget" in result.stdout, result.stdout + result.stderr
    assert agent.pins()["5"] == 1
    status = pc.run(
        *UPNP_CLIENT, "call-action", agent.description_url, "SwitchPower/GetStatus", timeout=60
    )
    assert json.loads(status.stdout)["out_parameters"]["ResultStatus"] is True


BUTTON_BOARD = {
    "security_mode": "open",
    "services": [
        {"kind": "switch", "name": "relay", "pin": 5},
        {"kind": "button", "name": "doorbell", "friendly_name": "Doorbell", "pin": 0},
    ],
}


def test_subscribe_initial_and_button_event(lan: Lan) -> None:
    # One input only: the CLI subscribes to the first service whose id matches.
    agent = start_agent(lan, config=BUTTON_BOARD, log_level="debug")
    pc = lan.add_host("pc")
    # -u: the tool's prints go to a log file, which Python would otherwise block-buffer.
    watcher = pc.start(
        UPNP_CLIENT[0],
        "-u",
        *UPNP_CLIENT[1:],
        "subscribe",
        agent.description_url,
        "BinaryInput",
        label="subscribe",
    )
    watcher.wait_for_output(r'"PressCount": 0', timeout=60)
    agent.press_button("doorbell")
    watcher.wait_for_output(r'"PressCount": 1', timeout=30)
    agent.press_button("doorbell")
    watcher.wait_for_output(r'"PressCount": 2', timeout=30)


@pytest.mark.usefixtures("lan_sockets")
def test_async_upnp_client_parses_description_strictly(
    lan: Lan, agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    pc = lan.add_host("pc")

    async def load() -> dict[str, list[str]]:
        factory = UpnpFactory(AiohttpRequester(), non_strict=False)
        device = await factory.async_create_device(agent.description_url)
        return {
            dev.device_type: sorted(s.service_type for s in dev.services.values())
            for dev in device.all_devices
        }

    with caplog.at_level(logging.DEBUG, logger="async_upnp_client"), pc.entered():
        devices = asyncio.run(load())
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    ignored = [r.getMessage() for r in caplog.records if "Ignoring" in r.getMessage()]
    assert ignored == []
    assert devices["urn:upnp-guard-org:device:Agent:1"] == [
        "urn:upnp-guard-org:service:AgentInfo:1"
    ]
    assert devices["urn:schemas-upnp-org:device:DimmableLight:1"] == [
        "urn:schemas-upnp-org:service:Dimming:1",
        "urn:schemas-upnp-org:service:SwitchPower:1",
    ]
    assert devices["urn:upnp-guard-org:device:Sensor:1"] == [
        "urn:schemas-upnp-org:service:TemperatureSensor:1",
        "urn:upnp-guard-org:service:HumiditySensor:1",
    ]
    assert devices["urn:upnp-guard-org:device:Input:1"] == [
        "urn:upnp-guard-org:service:BinaryInput:1"
    ]
