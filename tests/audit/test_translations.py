"""Every check that raises a repair issue has its translated title, explanation and fix
flow, in strings.json and the English translation alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from custom_components.upnp_guard.audit.const import CheckId
from custom_components.upnp_guard.audit.pair_agent import PairCheck

ROOT = Path(__file__).parents[2] / "custom_components" / "upnp_guard"
# Raised by the router entry, with its own issues (audit/publish.py).
ROUTER_ENTRY = {CheckId.ROUTER_RISKY_MAPPING, CheckId.ROUTER_DNS_CHANGED}


def issues(path: Path) -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, dict[str, object]]] = json.loads(path.read_text("utf-8"))
    return loaded["issues"]


@pytest.mark.parametrize("check", sorted(set(CheckId) - ROUTER_ENTRY))
def test_check_has_translated_issue(check: CheckId) -> None:
    key = f"audit_{check.lower().replace('-', '_')}"
    strings = issues(ROOT / "strings.json")[key]
    assert strings == issues(ROOT / "translations" / "en.json")[key]
    assert str(strings["description"]).startswith(f"{check.value}. ")
    flow = strings["fix_flow"]
    assert isinstance(flow, dict)
    assert set(flow["abort"]) == {"audit_not_loaded", "audit_still_present"}
    # UG-AGENT-001's fix flow pairs the agent (audit/pair_agent.py); the others confirm.
    step = "pair" if check is CheckId.AGENT_OPEN_MODE else "confirm"
    assert set(flow["step"]) == {step}
    assert "{page}" in flow["step"][step]["description"]
    if check is CheckId.AGENT_OPEN_MODE:
        assert set(flow["error"]) == {e.value for e in PairCheck if e is not PairCheck.PAIRED} | {
            "invalid_key"
        }
    # Only the placeholders every finding has, and the check's own (checks.make_finding).
    assert set(re.findall(r"{(\w+)}", str(strings["description"]))) >= {"name", "address"}
