"""Newer MicroPython releases than Debian's 1.26.1: the WebAssembly ports from the npm
registry (@micropython/micropython-webassembly-pyscript 1.27.0 and 1.29.0, installed by
scripts/setup into /opt/micropython-wasm, run by Node.js through wasm_runner.mjs).

The sans-IO core's unit tests run there unchanged, and the .mpy bundle (mpy-cross 1.26.1,
mpy v6.3) loads there: the port imports .mpy files from its file system. What the port
cannot do: sockets and asyncio's network streams (no agent on the LAN there)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from upnp_guard_fleet.bundle import build_bundle

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "firmware" / "wasm_runner.mjs"
UNIT = REPO / "tests" / "firmware" / "unit"
WASM_DIR = Path("/opt/micropython-wasm/node_modules")
RELEASES = {"1.27": "1.27.0", "1.29": "1.29.0"}

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not WASM_DIR.is_dir(),
    reason="no Node.js or WebAssembly ports: scripts/setup installs them in the sandbox",
)


def _run(release: str, script: Path, copies: list[Path], cwd: Path) -> str:
    result = subprocess.run(
        ["node", str(RUNNER), str(WASM_DIR / f"mp-{release}"), str(script),
         *map(str, copies), "--", str(cwd)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_unit_tests_pass_on_the_webassembly_port(release: str) -> None:
    output = _run(
        release,
        UNIT / "run_micropython.py",
        [REPO / "firmware", UNIT, REPO / "tests" / "vectors"],
        REPO,
    )
    assert "WASM-EXIT 0" in output, output[-3000:]
    assert "failed 0" in output
    passed = int(output.split("passed ")[1].split()[0])
    assert passed == sum(path.read_text().count("\ndef test_") for path in UNIT.glob("test_*.py"))


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_bundle_loads_on_the_webassembly_port(release: str, tmp_path: Path) -> None:
    bundle = build_bundle(REPO / "firmware", tmp_path / "dist", version="4.5.6")
    script = tmp_path / "load.py"
    script.write_text(
        "import sys\n"
        "sys.path.insert(0, '.')\n"
        "print('release', sys.implementation.version)\n"
        "import upnpguard\n"
        "from upnpguard import xmlutil, http, soap, ssdp, gena, auth\n"
        "print('version', upnpguard.FIRMWARE_VERSION)\n"
        "print('file', http.__file__)\n"
        "print('escaped', xmlutil.escape('<a&b>'))\n"
    )
    output = _run(release, script, [bundle], bundle)
    assert "WASM-EXIT 0" in output, output[-3000:]
    major, minor, _ = RELEASES[release].split(".")
    assert re.search(rf"release \({major}, {minor}, 0", output), output
    assert "version 4.5.6" in output  # the bundle's, not a source copy
    assert re.search(r"file \S*upnpguard/http\.mpy", output), output
    assert "escaped &lt;a&amp;b&gt;" in output
