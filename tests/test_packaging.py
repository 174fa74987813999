"""Packaging rules HACS and hassfest enforce, checked without their tools."""

from __future__ import annotations

import json
from pathlib import Path

import homeassistant.components.ssdp as core_ssdp
from awesomeversion import AwesomeVersion
from packaging.requirements import Requirement

from custom_components.upnp_guard.appliance.const import DISCOVERABLE_SEARCH_TARGETS
from custom_components.upnp_guard.const import IGD_DEVICE_TYPES

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "custom_components" / "upnp_guard"

# HACS validates hacs.json with PREVENT_EXTRA: any other key fails validation.
HACS_KEYS = {
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "render_readme",
    "zip_release",
    "name",
}


def _manifest() -> dict[str, object]:
    return json.loads((INTEGRATION / "manifest.json").read_text())


def test_hacs_json_has_only_known_keys() -> None:
    data = json.loads((REPO / "hacs.json").read_text())
    assert set(data) <= HACS_KEYS
    assert data["name"]
    assert data["content_in_root"] is False
    AwesomeVersion(data["homeassistant"])


def test_manifest_key_order_follows_hassfest() -> None:
    keys = list(_manifest())
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    for required in ("codeowners", "documentation", "issue_tracker", "version", "iot_class"):
        assert required in keys
    assert _manifest()["iot_class"] == "local_push"
    assert set(_manifest()["dependencies"]) >= {"network", "ssdp"}  # type: ignore[arg-type]


def test_root_device_types_are_matched_in_alive_advertisements_too() -> None:
    """Home Assistant matches `st` only against search responses; an ssdp:alive NOTIFY
    (a board that just booted) matches through the description's deviceType. Every root
    device type we set up needs both, or new devices wait for the next search."""
    matchers: list[dict[str, str]] = _manifest()["ssdp"]  # type: ignore[assignment]
    by_key = {key: {m[key] for m in matchers if key in m} for key in ("st", "deviceType")}
    root_types = {t for t in DISCOVERABLE_SEARCH_TARGETS if ":device:" in t} | set(IGD_DEVICE_TYPES)
    assert root_types <= by_key["deviceType"]
    assert set(DISCOVERABLE_SEARCH_TARGETS) | set(IGD_DEVICE_TYPES) <= by_key["st"]


def test_manifest_requirement_admits_home_assistants_pin() -> None:
    """Our async-upnp-client requirement must accept the version Home Assistant pins."""
    ha_manifest = json.loads((Path(core_ssdp.__file__).parent / "manifest.json").read_text())
    pinned = next(
        Requirement(r) for r in ha_manifest["requirements"] if r.startswith("async-upnp-client")
    )
    (pinned_version,) = (spec.version for spec in pinned.specifier)
    ours = next(
        Requirement(r)
        for r in _manifest()["requirements"]  # type: ignore[attr-defined]
        if r.startswith("async-upnp-client")
    )
    assert ours.specifier.contains(pinned_version)


def test_translations_match_strings() -> None:
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    english = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    assert strings == english
