"""The ESP32 HAL (firmware/hal/esp32.py) under the 32-bit unix build, against fakes of the
board's machine, network and dht modules (tests/firmware/esp32/): WiFi connect with a
doubling, capped backoff; the watchdog; a restart on a new address or a lost link;
active-low debounced inputs; PWM; sensors in hundredths; state on flash. And the shell
with that HAL (tests/firmware/esp32/run_shell_esp32.py): task supervision and the watchdog
feed, a SUBSCRIBE whose response cannot be written, NOTIFY deliveries of subscriptions
that go away."""

from __future__ import annotations

from pathlib import Path

from tests.firmware.runner import run_micropython_tests
from tests.lan.agent import binary_for

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "firmware" / "esp32" / "run_hal_esp32.py"
SHELL_RUNNER = REPO / "tests" / "firmware" / "esp32" / "run_shell_esp32.py"


def test_esp32_hal_against_fake_board_modules(tmp_path: Path) -> None:
    run_micropython_tests(
        binary_for("frozen-32"), RUNNER, [str(REPO), str(tmp_path)], [RUNNER], timeout=60
    )
    assert (tmp_path / "state" / "boot_id").read_bytes() == b"8"


def test_shell_supervision_and_watchdog_with_the_esp32_hal() -> None:
    """A long-lived task that cannot be restarted stops the feed of the board's watchdog;
    one that fails and recovers keeps it fed; a SUBSCRIBE whose response cannot be written
    is released; a NOTIFY whose subscription left is not sent, or cancelled in flight."""
    run_micropython_tests(
        binary_for("frozen-32"), SHELL_RUNNER, [str(REPO)], [SHELL_RUNNER], timeout=60
    )
