"""Run a MicroPython-side test runner (it prints "passed N failed M") and check that every
test function of the given files ran and passed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path


def run_micropython_tests(
    binary: str, runner: Path, args: Iterable[str], test_files: Iterable[Path], timeout: float
) -> str:
    result = subprocess.run(
        [binary, str(runner), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "failed 0" in output, output
    passed = int(output.split("passed ")[1].split()[0])
    # Every test function in the files ran, none was skipped by a runner that stopped early.
    assert passed == sum(path.read_text().count("\ndef test_") for path in test_files), output
    return output
