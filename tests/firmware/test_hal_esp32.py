"""The ESP32 HAL (firmware/hal/esp32.py) under the 32-bit unix build, against fakes of the
board's machine, network and dht modules (tests/firmware/esp32/): WiFi connect with a
doubling, capped backoff; the watchdog; a restart on a new address or a lost link;
active-low debounced inputs; PWM; sensors in hundredths; state on flash."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.lan.agent import binary_for

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "firmware" / "esp32" / "run_hal_esp32.py"


def test_esp32_hal_against_fake_board_modules(tmp_path: Path) -> None:
    result = subprocess.run(
        [binary_for("frozen-32"), str(RUNNER), str(REPO), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "failed 0" in output, output
    passed = int(output.split("passed ")[1].split()[0])
    assert passed == RUNNER.read_text().count("\ndef test_"), output
    assert (tmp_path / "state" / "boot_id").read_bytes() == b"8"
