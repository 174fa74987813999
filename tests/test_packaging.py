"""Packaging rules HACS and hassfest enforce, checked without their tools."""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import homeassistant.components.ssdp as core_ssdp
import pytest
import yaml
from awesomeversion import AwesomeVersion
from packaging.requirements import Requirement
from PIL import Image

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


# -- manifest and hacs.json values ------------------------------------------------------
def test_manifest_values_hacs_and_hassfest_read() -> None:
    manifest = _manifest()
    version = AwesomeVersion(str(manifest["version"]))
    assert version.valid
    # One version: the manifest's (HACS shows it) is the project's.
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert str(version) == pyproject["project"]["version"]
    for key in ("documentation", "issue_tracker"):
        assert str(manifest[key]).startswith("https://"), key
    assert manifest["config_flow"] is True


def test_hacs_minimum_home_assistant_reads_the_brand_folder() -> None:
    """brand/ of a custom integration is read from Home Assistant 2026.3 on; the README
    states the same minimum as hacs.json."""
    minimum = json.loads((REPO / "hacs.json").read_text())["homeassistant"]
    assert AwesomeVersion(minimum) >= AwesomeVersion("2026.3.0")
    year, month = minimum.split(".")[:2]
    assert f"Requires Home Assistant {year}.{month} or newer" in (REPO / "README.md").read_text()


# -- brand images --------------------------------------------------------------------------
BRAND = INTEGRATION / "brand"


@pytest.mark.parametrize(
    ("name", "square", "low", "high"),
    [
        ("icon.png", True, 256, 256),
        ("icon@2x.png", True, 512, 512),
        ("logo.png", False, 128, 256),
        ("logo@2x.png", False, 256, 512),
    ],
)
def test_brand_image_follows_the_brands_rules(name: str, square: bool, low: int, high: int) -> None:
    """PNG, transparent background, trimmed; icons square at their size, logos with the
    shortest side within the range the brands repository accepts."""
    path = BRAND / name
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.mode == "RGBA"
        width, height = image.size
        if square:
            assert width == height == low
        else:
            assert width > height
            assert low <= height <= high
        assert image.getpixel((0, 0))[3] == 0, "background must be transparent"
        left, top, right, bottom = image.getchannel("A").getbbox() or (0, 0, 0, 0)
        assert (left, right) == (0, width) or (top, bottom) == (0, height), "not trimmed"


def test_brand_icon_and_logo_are_required() -> None:
    # Home Assistant looks for exactly these names; the @2x ones are optional.
    assert (BRAND / "icon.png").is_file()
    assert (BRAND / "logo.png").is_file()


# -- every step, error, abort and menu option of a flow is translated ----------------------
def _flow_classes() -> dict[str, tuple[list[str], ast.ClassDef]]:
    classes = {}
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
                classes[node.name] = (bases, node)
    return classes


def _kind(name: str, classes: dict[str, tuple[list[str], ast.ClassDef]]) -> set[str]:
    """Which strings section a class's steps belong to: through its bases (and classes
    that mix it in)."""
    kinds = set()
    bases = classes[name][0]
    if "ConfigFlow" in bases:
        kinds.add("config")
    if "OptionsFlow" in bases:
        kinds.add("options")
    for other, (other_bases, _) in classes.items():
        if name in other_bases:
            kinds |= _kind(other, classes)
    return kinds


def _literal(call: ast.Call, keyword: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _flow_texts() -> dict[str, set[tuple[str, ...]]]:
    """(section) -> the translation paths the flows' code uses with literal ids."""
    classes = _flow_classes()
    used: dict[str, set[tuple[str, ...]]] = {"config": set(), "options": set()}
    for name, (_, node) in classes.items():
        for kind in _kind(name, classes):
            for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
                method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
                step = _literal(call, "step_id")
                if method in ("async_show_form", "async_show_menu") and isinstance(
                    step, ast.Constant
                ):
                    used[kind].add(("step", step.value))
                    options = _literal(call, "menu_options")
                    if isinstance(options, ast.List):
                        for option in options.elts:
                            assert isinstance(option, ast.Constant)
                            used[kind].add(("step", step.value, "menu_options", option.value))
                reason = _literal(call, "reason")
                if method == "async_abort" and isinstance(reason, ast.Constant):
                    used[kind].add(("abort", reason.value))
            for assign in (n for n in ast.walk(node) if isinstance(n, ast.Assign)):
                target = assign.targets[0]
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "errors"
                    and isinstance(assign.value, ast.Constant)
                ):
                    used[kind].add(("error", assign.value.value))
    return used


def test_every_config_and_options_step_is_translated() -> None:
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    used = _flow_texts()
    assert ("step", "user") in used["config"]  # the scan sees the flows at all
    assert ("step", "init") in used["options"]
    for section, paths in used.items():
        for path in paths:
            node = strings[section]
            for key in path:
                assert isinstance(node, dict), f"{section}.{'.'.join(path)}"
                assert key in node, f"{section}.{'.'.join(path)}"
                node = node[key]
            if path[0] == "step" and len(path) == 2:
                assert node.get("title") or node.get("description"), f"{section} step {path}"


# -- services.yaml ------------------------------------------------------------------------
def test_every_service_and_field_is_translated() -> None:
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    strings = json.loads((INTEGRATION / "strings.json").read_text())["services"]
    assert set(strings) == set(services)
    for service, spec in services.items():
        assert strings[service]["name"], service
        assert strings[service]["description"], service
        fields = set((spec or {}).get("fields", {}))
        assert set(strings[service].get("fields", {})) == fields, service
        for field in fields:
            text = strings[service]["fields"][field]
            assert text["name"], f"{service}.{field}"
            assert text["description"], f"{service}.{field}"
