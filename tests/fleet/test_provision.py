"""upnp-guard-provision against a directory standing in for the board's flash: the layout
of fleet-contract.md, the key printed once, and every refusal made before anything is
written (then a good run still works)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mpremote import commands  # type: ignore[import-untyped]
from upnp_guard_fleet import boardconfig, romfs
from upnp_guard_fleet.boardconfig import BoardConfigError, firmware_check, validate
from upnp_guard_fleet.bundle import load_manifest
from upnp_guard_fleet.provision import flash_commands, main, mpremote_command, stage

from tests.fleet.build_fixtures import built_bundle, bundle  # noqa: F401 - fixtures
from tests.fleet.dirtransport import DirTransport

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "firmware" / "examples"
KEY = bytes(range(32))
KEY_TEXT = base64.b64encode(KEY).decode()
LINE = re.compile(r"^\[I\] pairing key for (.*): ([A-Za-z0-9+/=]{44})$", re.M)


def _config(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "board.json"
    path.write_text(json.dumps(config))
    return path


def _provision(bundle: Path, config: Path, target: Path, *extra: str, wifi: bool = True) -> int:
    args = ["--bundle", str(bundle), "--config", str(config), "--target-dir", str(target)]
    if wifi:
        args += ["--wifi-ssid", "Home", "--wifi-password", "correct horse"]
    return main([*args, *extra])


def _example() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((EXAMPLES / "esp32-devkitc.json").read_text())
    return config


def test_layout_of_a_provisioned_board(
    built_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "flash"
    config = _config(tmp_path, _example())
    assert _provision(built_bundle, config, target, "--key", KEY_TEXT) == 0
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    bundle_files = sorted(
        "ug/a/" + p.relative_to(built_bundle).as_posix()
        for p in built_bundle.rglob("*")
        if p.is_file()
    )
    expected = [*bundle_files, "ug/boot.json", "main.py", "ugboot.py", "config.json", "state/key"]
    assert files == sorted(expected)
    assert load_manifest(target / "ug" / "a") == load_manifest(built_bundle)
    assert json.loads((target / "ug" / "boot.json").read_text()) == {"slot": "a"}
    assert (target / "main.py").read_bytes() == (REPO / "firmware" / "main.py").read_bytes()
    assert (target / "ugboot.py").read_bytes() == (REPO / "firmware" / "ugboot.py").read_bytes()
    written = json.loads((target / "config.json").read_text())
    assert written == {**_example(), "wifi": {"ssid": "Home", "password": "correct horse"}}
    assert (target / "state" / "key").read_text() == KEY_TEXT
    out = capsys.readouterr().out
    assert LINE.findall(out) == [("Hallway board", KEY_TEXT)]
    assert out.count(KEY_TEXT) == 1  # printed once, nowhere else


def test_a_new_key_is_generated_stored_and_printed_once(
    built_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = []
    for run in range(2):
        target = tmp_path / f"flash{run}"
        assert _provision(built_bundle, _config(tmp_path, _example()), target) == 0
        [(name, text)] = LINE.findall(capsys.readouterr().out)
        assert name == "Hallway board"
        assert len(base64.b64decode(text)) == 32
        assert (target / "state" / "key").read_text() == text
        keys.append(text)
    assert keys[0] != keys[1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["services"][0].update(kind="relay"), "unknown kind 'relay'"),
        (lambda c: c["services"][1].update(pin=26), "pin 26 is already used by service 'relay'"),
        (lambda c: c["services"][0].update(name="x" * 33), r"name must be a string of 1\.\.32"),
        (lambda c: c["services"][1].update(name="relay"), "'relay' is used twice"),
        (lambda c: c["services"][0].update(pin=34), "GPIO 34 is input-only on esp32"),
        (lambda c: c["services"][0].update(pin=7), "GPIO 7 is not usable on esp32"),
        (lambda c: c["services"][0].update(pin="26"), "pin must be a GPIO number"),
        (lambda c: c["services"][2].update(sensor="ntc"), "GPIO 27 has no ADC1 channel"),
        (lambda c: c.update(chip="esp8266"), "unknown chip 'esp8266'"),
        (lambda c: c.update(colour="red"), "unknown key 'colour'"),
        (lambda c: c.update(friendly_name="a\nb"), "control characters"),
        (lambda c: c.update(security_mode="none"), "security_mode must be"),
        (
            lambda c: c.update(
                services=[{"kind": "switch", "name": "s", "pin": p} for p in range(9)]
            ),
            "at most 8",
        ),
    ],
)
def test_bad_config_is_refused_before_anything_is_written(
    built_bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Any,
    message: str,
) -> None:
    config = _example()
    change(config)
    target = tmp_path / "flash"
    assert _provision(built_bundle, _config(tmp_path, config), target) == 1
    err = capsys.readouterr()
    assert re.search(message, err.err), err.err
    assert "pairing key" not in err.out
    assert not target.exists()
    # The tool keeps working: the same call with a good config provisions.
    assert _provision(built_bundle, _config(tmp_path, _example()), target) == 0


@pytest.mark.parametrize(
    ("wifi", "extra", "message"),
    [
        (False, [], "WiFi credentials are required"),
        (False, ["--wifi-ssid", "Home", "--wifi-password", "short"], "8..63 characters"),
        (False, ["--wifi-ssid", "", "--wifi-password", "correct horse"], "wifi ssid"),
        (True, ["--key", "not base64!"], "base64 of 32 bytes"),
        (True, ["--key", base64.b64encode(b"x" * 31).decode()], "base64 of 32 bytes"),
        (True, ["--flash", "/nonexistent.bin"], "--flash needs --device and --chip"),
    ],
)
def test_bad_arguments_are_refused(  # noqa: PLR0917 - pytest parameters
    built_bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wifi: bool,
    extra: list[str],
    message: str,
) -> None:
    target = tmp_path / "flash"
    assert _provision(built_bundle, _config(tmp_path, _example()), target, *extra, wifi=wifi) == 1
    assert message in capsys.readouterr().err
    assert not target.exists()


def test_tampered_bundle_is_refused(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = bundle / "upnpguard" / "agent.mpy"
    agent.write_bytes(agent.read_bytes()[:-1] + b"\x00")
    target = tmp_path / "flash"
    assert _provision(bundle, _config(tmp_path, _example()), target) == 1
    assert "not a valid bundle: upnpguard/agent.mpy: SHA-256 differs" in capsys.readouterr().err
    assert not target.exists()


def test_a_provisioned_target_is_not_overwritten(
    built_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "flash"
    assert _provision(built_bundle, _config(tmp_path, _example()), target, "--key", KEY_TEXT) == 0
    assert _provision(built_bundle, _config(tmp_path, _example()), target) == 1
    assert "not empty" in capsys.readouterr().err
    assert (target / "state" / "key").read_text() == KEY_TEXT


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("esp32*.json")), ids=lambda p: p.stem)
def test_examples_are_valid_for_their_chip(example: Path) -> None:
    config = json.loads(example.read_text())
    assert config["chip"] in boardconfig.CHIPS
    validate(config, board=False)
    with pytest.raises(BoardConfigError, match="wifi"):
        validate(config)  # a board needs its WiFi credentials


def test_kinds_are_the_firmware_kinds() -> None:
    sys.path.insert(0, str(REPO / "firmware"))
    try:
        from upnpguard import servicetypes  # noqa: PLC0415 - firmware, on its own path
    finally:
        sys.path.remove(str(REPO / "firmware"))
    assert sorted(servicetypes.DEVICE_TYPES) == sorted(boardconfig.KINDS)


def test_flash_and_copy_commands(tmp_path: Path) -> None:
    """The esptool and mpremote calls (never run here: there is no board)."""
    erase, write = flash_commands(Path("/img/ESP32_GENERIC.bin"), "esp32", "/dev/ttyUSB0")
    assert erase[1:] == [
        "-m",
        "esptool",
        "--chip",
        "esp32",
        "--port",
        "/dev/ttyUSB0",
        "erase-flash",
    ]
    assert write[-4:] == ["write-flash", "-z", "0x1000", "/img/ESP32_GENERIC.bin"]
    assert flash_commands(Path("x.bin"), "esp32c3", "COM3")[1][-2] == "0x0"
    segments = _segments(mpremote_command("/dev/ttyUSB0", tmp_path))
    assert segments[0][0] == "exec"
    assert [segment[:2] for segment in segments[1:]] == [["fs", "cp"]] * 6
    # The slot first, the loader last (main.py, which imports ugboot.py, after it).
    assert [segment[-1] for segment in segments[1:]] == [
        ":/ug",
        ":/ug/boot.json",
        ":/config.json",
        ":/state/key",
        ":/ugboot.py",
        ":/main.py",
    ]


def _segments(command: list[str]) -> list[list[str]]:
    assert command[1:5] == ["-m", "mpremote", "connect", "/dev/ttyUSB0"]
    segments: list[list[str]] = [[]]
    for word in command[5:]:
        if word == "+":
            segments.append([])
        else:
            segments[-1].append(word)
    return segments


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def test_mpremote_command_writes_the_same_board_as_target_dir(
    built_bundle: Path, tmp_path: Path
) -> None:
    """mpremote's own copy code (its `fs cp`, PyPI) runs the command's copies against a
    directory standing in for the board; the preparing `exec` runs under the unix port.
    The result is byte for byte what --target-dir writes; a module left in the slot by an
    earlier provisioning is gone."""
    wifi = {"ssid": "Home", "password": "correct horse"}
    staged = tmp_path / "staged"
    staged.mkdir()
    stage(built_bundle, {**_example(), "wifi": wifi}, KEY, REPO / "firmware" / "main.py", staged)
    board = tmp_path / "board"
    (board / "ug" / "a" / "upnpguard").mkdir(parents=True)
    (board / "ug" / "a" / "upnpguard" / "core.py").write_text("stale = 1\n")
    state = SimpleNamespace(transport=DirTransport(board))
    for segment in _segments(mpremote_command("/dev/ttyUSB0", staged)):
        if segment[0] == "exec":
            code = segment[1].replace("R = ''", f"R = {str(board)!r}")
            assert code != segment[1]
            subprocess.run(["micropython", "-c", code], check=True, timeout=60)
        elif segment[2] == "-r":
            commands.do_filesystem_recursive_cp(state, segment[3], segment[4], False, False)
        else:
            commands.do_filesystem_cp(state, segment[2], segment[3], False, False)
    expected = tmp_path / "expected"
    assert _provision(built_bundle, _config(tmp_path, _example()), expected, "--key", KEY_TEXT) == 0
    assert _tree(board) == _tree(expected)


def test_wifi_password_from_the_environment(
    built_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not on the command line (where the process list shows it): the environment."""
    monkeypatch.setenv("UPNP_GUARD_WIFI_PASSWORD", "from the environment")
    target = tmp_path / "flash"
    config = _config(tmp_path, _example())
    assert _provision(built_bundle, config, target, "--wifi-ssid", "Home", wifi=False) == 0
    written = json.loads((target / "config.json").read_text())
    assert written["wifi"] == {"ssid": "Home", "password": "from the environment"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["services"][0].update(kind="relay"), "unknown kind 'relay'"),
        (lambda c: c["services"][1].update(name="relay"), "duplicate service name relay"),
        (lambda c: c["services"][0].update(pin="26"), "needs an integer pin"),
    ],
)
def test_the_firmware_check_runs_the_firmware(change: Any, message: str) -> None:
    """The firmware's own refusal (devices.build_devices), which provisioning runs after
    the stricter check above: both must agree on what a board cannot run."""
    config = _example()
    firmware_check(config, REPO / "firmware")  # the example passes
    change(config)
    with pytest.raises(BoardConfigError, match=f"the firmware refuses it: .*{message}"):
        firmware_check(config, REPO / "firmware")
    with pytest.raises(BoardConfigError, match="no firmware sources"):
        firmware_check(_example(), REPO / "docs")


def test_romfs_layout_has_an_image_and_no_slot(
    built_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--romfs: the bundle as a ROMFS image (romfs.img stands in for the partition) and
    no /ug at all, so the loader runs /rom; the rest is the same board."""
    target = tmp_path / "flash"
    config = _config(tmp_path, _example())
    assert _provision(built_bundle, config, target, "--key", KEY_TEXT, "--romfs") == 0
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == ["config.json", "main.py", "romfs.img", "state/key", "ugboot.py"]
    image = (target / "romfs.img").read_bytes()
    assert image.startswith(b"\xd2\xcd\x31")
    assert (built_bundle / "upnpguard" / "core.mpy").read_bytes() in image
    assert LINE.findall(capsys.readouterr().out) == [("Hallway board", KEY_TEXT)]


def test_romfs_mpremote_command_deploys_the_image_and_drops_old_slots(
    built_bundle: Path, tmp_path: Path
) -> None:
    """The board provisioned before with a slot: the preparing `exec` (run under the unix
    port) removes /ug/boot.json and both slots, `romfs deploy` writes the image (not run
    here: the unix port has no partition to write), the copies write the rest."""
    wifi = {"ssid": "Home", "password": "correct horse"}
    staged = tmp_path / "staged"
    staged.mkdir()
    main_py = REPO / "firmware" / "main.py"
    stage(built_bundle, {**_example(), "wifi": wifi}, KEY, main_py, staged, romfs=True)
    board = tmp_path / "board"
    for slot in ("a", "b"):
        (board / "ug" / slot / "upnpguard").mkdir(parents=True)
        (board / "ug" / slot / "upnpguard" / "core.mpy").write_bytes(b"old")
    (board / "ug" / "boot.json").write_text('{"slot": "b"}')
    state = SimpleNamespace(transport=DirTransport(board))
    segments = _segments(mpremote_command("/dev/ttyUSB0", staged))
    assert segments[1] == ["romfs", "deploy", str(staged / "romfs.img")]  # the image first
    # Stopped before the image is written (or while): the old slot is still named and
    # whole, so the board still runs the agent it had.
    before = _tree(board)
    code = segments[0][1].replace("R = ''", f"R = {str(board)!r}")
    subprocess.run(["micropython", "-c", code], check=True, timeout=60)
    assert _tree(board) == before
    assert segments[-1][-1] == ":/main.py"  # the loader last
    for segment in segments:
        if segment[0] == "exec":
            code = segment[1].replace("R = ''", f"R = {str(board)!r}")
            subprocess.run(["micropython", "-c", code], check=True, timeout=60)
        elif segment[0] == "fs":
            commands.do_filesystem_cp(state, segment[2], segment[3], False, False)
    expected = tmp_path / "expected"
    config = _config(tmp_path, _example())
    assert _provision(built_bundle, config, expected, "--key", KEY_TEXT, "--romfs") == 0
    written = _tree(expected)
    del written["romfs.img"]  # the partition, not a file
    assert _tree(board) == written


def test_romfs_image_too_large_is_refused_before_anything_is_written(
    built_bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--romfs with an image larger than the partition: a one-line refusal (exit 1, no
    traceback) and nothing written to the board."""
    monkeypatch.setattr(romfs, "ROMFS_PARTITION_BYTES", 4096)
    target = tmp_path / "flash"
    config = _config(tmp_path, _example())
    assert _provision(built_bundle, config, target, "--key", KEY_TEXT, "--romfs") == 1
    err = capsys.readouterr().err
    assert "4096-byte partition" in err
    assert "Traceback" not in err
    assert not target.exists() or not any(target.iterdir())
