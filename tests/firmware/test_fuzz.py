"""fuzz/fuzz_agent.py, bounded, with fixed seeds: every mutated HTTP request, M-SEARCH,
CALLBACK header and SOAP body gets a documented answer and the agent keeps serving, on
CPython, on Debian's micropython and on the 32-bit build (the same file everywhere)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.lan.agent import binary_for

REPO = Path(__file__).resolve().parents[2]
FUZZER = REPO / "fuzz" / "fuzz_agent.py"
TARGETS = 4


@pytest.mark.parametrize(
    ("interpreter", "iterations", "seed"),
    [("cpython", 3000, 1), ("source", 3000, 2), ("frozen-32", 3000, 3)],
)
def test_fuzzed_inputs_get_documented_answers(interpreter: str, iterations: int, seed: int) -> None:
    binary = sys.executable if interpreter == "cpython" else binary_for(interpreter)
    result = subprocess.run(
        [binary, str(FUZZER), str(iterations), str(seed)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert f"runs {iterations * TARGETS} crashes 0" in output, output[-3000:]
