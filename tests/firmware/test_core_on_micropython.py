"""The sans-IO core's unit tests (tests/firmware/unit, also run here by pytest on
CPython) run unchanged under the MicroPython unix port: Debian's 64-bit micropython, and
the 32-bit build (an ESP32's word size: 31-bit small ints, 4-byte words)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.lan.agent import binary_for

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "firmware" / "unit" / "run_micropython.py"


@pytest.mark.parametrize("build", ["source", "frozen-32"])
def test_unit_tests_pass_under_micropython(build: str) -> None:
    result = subprocess.run(
        [binary_for(build), str(RUNNER), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "failed 0" in output
    passed = int(output.split("passed ")[1].split()[0])
    # Every test function of the CPython run ran here too.
    count = sum(path.read_text().count("\ndef test_") for path in RUNNER.parent.glob("test_*.py"))
    assert passed == count, output
