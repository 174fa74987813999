"""Fixtures of the build, provision and mip tests (imported by them, not a conftest.py:
the over-the-air tests share tests/fleet/): one bundle built per session (mpy-cross
takes a few seconds), copied per test when a test changes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from upnp_guard_fleet.bundle import build_bundle

from tests.firmware.e2e import lan_sockets

__all__ = ["built_bundle", "bundle", "lan_sockets"]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The firmware as it is in the tree, built once: do not modify (use `bundle`)."""
    return build_bundle(REPO / "firmware", tmp_path_factory.mktemp("dist"))


@pytest.fixture
def bundle(built_bundle: Path, tmp_path: Path) -> Path:
    """A private copy of the built bundle a test may tamper with."""
    copy = tmp_path / built_bundle.name
    shutil.copytree(built_bundle, copy)
    return copy
