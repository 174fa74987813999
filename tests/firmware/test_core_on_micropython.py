"""The sans-IO core's unit tests (tests/firmware/unit, also run here by pytest on
CPython) run unchanged under the MicroPython unix port."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "firmware" / "unit" / "run_micropython.py"


def test_unit_tests_pass_under_micropython() -> None:
    result = subprocess.run(
        ["micropython", str(RUNNER), str(REPO)],
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
