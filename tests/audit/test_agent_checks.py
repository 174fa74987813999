"""The agent checks (UG-AGENT-001/002/003) on what an agent's GetInfo said."""

from __future__ import annotations

import re
from pathlib import Path

from custom_components.upnp_guard.audit.checks import AgentReading, check_agent
from custom_components.upnp_guard.audit.const import AGENT_FIRMWARE_LATEST, CheckId
from custom_components.upnp_guard.audit.inventory import InventoryDevice
from custom_components.upnp_guard.audit.version import Version

FIRMWARE_INIT = Path(__file__).parents[2] / "firmware" / "upnpguard" / "__init__.py"
DEVICE = InventoryDevice(
    udn="uuid:agent", address="192.0.2.9", location="http://192.0.2.9:49152/desc.xml"
)
CURRENT = Version.parse(AGENT_FIRMWARE_LATEST)


def checks(reading: AgentReading | None) -> dict[str, dict[str, object]]:
    return {f.check_id: f.details for f in check_agent(DEVICE, reading)}


def test_the_known_release_is_the_firmware_in_this_repository() -> None:
    match = re.search(r'FIRMWARE_VERSION = "([^"]+)"', FIRMWARE_INIT.read_text())
    assert match is not None
    assert match.group(1) == AGENT_FIRMWARE_LATEST


def test_a_current_paired_agent_without_refusals_has_no_finding() -> None:
    assert checks(AgentReading("paired", CURRENT, 0)) == {}
    assert checks(None) == {}  # not an agent, or it did not answer
    # A newer agent than this release knows, or one whose version is unreadable: no finding.
    assert checks(AgentReading("paired", Version.parse("99.0"), 0)) == {}
    assert checks(AgentReading("paired", None, 0)) == {}


def test_each_agent_finding() -> None:
    older = Version((*CURRENT.parts[:-1], CURRENT.parts[-1] - 1)) if CURRENT.parts[-1] else None
    older = older or Version((0, 0, 1))
    assert older < CURRENT
    found = checks(AgentReading("open", older, 3))
    assert found == {
        CheckId.AGENT_OPEN_MODE: {"mode": "open"},
        CheckId.AGENT_OUTDATED: {"version": str(older), "latest": AGENT_FIRMWARE_LATEST},
        CheckId.AGENT_AUTH_FAILURES: {"auth_failures": 3},
    }
    finding = next(f for f in check_agent(DEVICE, AgentReading("paired", CURRENT, 7)))
    assert finding.check_id is CheckId.AGENT_AUTH_FAILURES
    assert finding.placeholders["count"] == "7"
