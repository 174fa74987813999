"""docs/architecture.md names every module, so a newcomer finds each by its job, and
names no module that does not exist."""

from __future__ import annotations

import re

from tests.test_docs import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
INTEGRATION = ROOT / "custom_components" / "upnp_guard"
FIRMWARE = ROOT / "firmware"
# Build inputs, not modules of the running agent (docs/firmware.md explains them).
FIRMWARE_BUILD_FILES = {"manifest.py", "manifest_unix.py"}


def _doc_names() -> set[str]:
    """Every `x.py` or `dir/x.py` the document quotes in backticks or in its diagrams."""
    return set(re.findall(r"\b\w+(?:/\w+)*\.py", ARCHITECTURE.read_text(encoding="utf-8")))


def _integration_modules() -> set[str]:
    return {
        path.relative_to(INTEGRATION).as_posix()
        for path in INTEGRATION.rglob("*.py")
        if path.name != "__init__.py" or path.parent == INTEGRATION
    }


def _firmware_modules() -> set[str]:
    return {
        path.name
        for path in FIRMWARE.rglob("*.py")
        if path.name not in FIRMWARE_BUILD_FILES
        and path.name != "__init__.py"
        and "unix_modules" not in path.parts
    }


def test_every_integration_module_is_in_the_architecture() -> None:
    names = _doc_names()
    missing = sorted(
        module
        for module in _integration_modules()
        if module not in names
        # A module named with its folder elsewhere in the table counts once per folder.
        and not any(name.endswith("/" + module) for name in names)
    )
    assert missing == []


def test_every_firmware_module_is_in_the_architecture() -> None:
    names = {name.rsplit("/", 1)[-1] for name in _doc_names()}
    missing = sorted(_firmware_modules() - names)
    assert missing == []


def test_every_module_the_architecture_names_exists() -> None:
    known = (
        _integration_modules()
        | {path.relative_to(INTEGRATION).name for path in INTEGRATION.rglob("*.py")}
        | _firmware_modules()
        | FIRMWARE_BUILD_FILES
        | {path.relative_to(FIRMWARE).as_posix() for path in FIRMWARE.rglob("*.py")}
    )
    unknown = sorted(
        name
        for name in _doc_names()
        if name not in known
        and name.removeprefix("upnpguard/") not in known
        and not (ROOT / name).is_file()
    )
    assert unknown == []
