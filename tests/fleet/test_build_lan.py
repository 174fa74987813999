"""The built .mpy bundle runs: the real agent, imported from the bundle directory (not the
sources, not the frozen copy), on the simulated LAN, serves its description and a SOAP
action. Stock Debian micropython (64-bit) and the 32-bit build, where the bundle comes
before the frozen agent on sys.path."""

from __future__ import annotations

from pathlib import Path

import pytest
from upnp_guard_fleet.bundle import build_bundle

from tests.firmware.e2e import description, exchange, soap, status
from tests.fleet.build_fixtures import lan_sockets  # noqa: F401 - fixtures
from tests.lan import Lan
from tests.lan.agent import start_agent

pytestmark = pytest.mark.lan

REPO = Path(__file__).resolve().parents[2]
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
# A version no source or frozen copy has: what the agent reports proves where it came from.
BUNDLE_VERSION = "7.7.7"


@pytest.fixture(scope="module")
def bundle_777(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(REPO / "firmware", tmp_path_factory.mktemp("dist"), version=BUNDLE_VERSION)


@pytest.mark.parametrize("build", ["mpy", "mpy-32"])
def test_agent_runs_from_the_bundle(
    lan: Lan, lan_sockets: None, bundle_777: Path, build: str
) -> None:
    agent = start_agent(lan, build=build, bundle=bundle_777)
    assert f"UPnP Guard {BUNDLE_VERSION} on" in agent.process.output()
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    assert f"<modelNumber>{BUNDLE_VERSION}</modelNumber>" in desc
    response = exchange(
        pc, agent, soap(agent, desc, SWITCH, "SetTarget", "<newTargetValue>1</newTargetValue>")
    )
    assert status(response) == 200, response[:300]
    assert agent.pins()["5"] == 1
    response = exchange(pc, agent, soap(agent, desc, SWITCH, "GetStatus"))
    assert b"<ResultStatus>1</ResultStatus>" in response
    # Imported from the bundle's .mpy files, nothing compiled from source.
    assert "Traceback" not in agent.process.output()
    agent.stop()


def test_a_bundle_build_needs_a_bundle(lan: Lan) -> None:
    with pytest.raises(ValueError, match="needs"):
        start_agent(lan, build="mpy")
