"""The sans-IO core's unit tests (tests/firmware/unit, also run here by pytest on
CPython) run unchanged under the MicroPython unix port: Debian's 64-bit micropython, and
the 32-bit build (an ESP32's word size: 31-bit small ints, 4-byte words)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.firmware.runner import run_micropython_tests
from tests.lan.agent import binary_for

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "firmware" / "unit" / "run_micropython.py"


@pytest.mark.parametrize("build", ["source", "frozen-32"])
def test_unit_tests_pass_under_micropython(build: str) -> None:
    # Every test function of the CPython run runs here too.
    run_micropython_tests(
        binary_for(build), RUNNER, [str(REPO)], RUNNER.parent.glob("test_*.py"), timeout=120
    )
