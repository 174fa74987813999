"""`upnp-guard-provision`: put the agent on a board (docs/firmware.md "Build and provision").

    upnp-guard-provision --bundle dist/upnpguard-0.1.0 --config board.json \
        --wifi-ssid HOME --wifi-password ... (--device /dev/ttyUSB0 | --target-dir DIR) \
        [--flash IMAGE --chip esp32] [--key BASE64] [--main firmware/main.py] [--romfs]

Checks everything first (bundle manifest and hashes, board config, key), then writes the
board's file system as fleet-contract.md lays it out: /ug/a/ (the bundle), /ug/boot.json
{"slot": "a"}, /main.py and /ugboot.py (the loader), /config.json (with the WiFi
credentials), /state/key.
The files are staged in a temporary directory and copied with mpremote (--device) or into
a directory standing in for the board's flash (--target-dir, what the tests use). It
prints the pairing key once, in the line the agent prints on a first boot. --flash writes
a MicroPython image first with esptool (erase, then write at the chip's offset).
--romfs (for a MicroPython image with ROMFS enabled, docs/firmware.md "Memory"): the
bundle goes to the board's ROMFS partition as an image (`mpremote romfs deploy`; romfs.img
in --target-dir) instead of /ug/a, and no /ug/boot.json is written, so the loader runs
the agent from /rom (any old slot is removed from the board).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from upnp_guard_fleet.boardconfig import CHIPS, BoardConfigError, firmware_check, validate
from upnp_guard_fleet.bundle import BundleError, load_manifest
from upnp_guard_fleet.romfs import build_romfs

KEY_BYTES = 32
# Where a MicroPython image starts in flash (micropython.org download pages per chip).
FLASH_OFFSET = {"esp32": "0x1000", "esp32s3": "0x0", "esp32c3": "0x0"}
DEFAULT_MAIN = Path(__file__).resolve().parents[2] / "firmware" / "main.py"


class ProvisionError(Exception):
    """Provisioning refused before touching the board; the message says why."""


def parse_key(text: str) -> bytes:
    """A pairing key as the config flow takes it: base64 of 32 bytes."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error, ValueError:
        raise ProvisionError("--key must be base64 of 32 bytes") from None
    if len(key) != KEY_BYTES:
        raise ProvisionError("--key must be base64 of 32 bytes")
    return key


def key_line(friendly_name: str, key: bytes) -> str:
    """The line the agent prints on a first boot (upnpguard/agent.py), so one reader
    (and the person copying it into the config flow) handles both."""
    return f"[I] pairing key for {friendly_name}: {base64.b64encode(key).decode()}"


def stage(  # noqa: PLR0917 - the parts of a board, each needed
    bundle: Path,
    config: dict[str, object],
    key: bytes,
    main: Path,
    into: Path,
    romfs: bool = False,
) -> None:
    """Lay out the board's file system under `into` (fleet-contract.md); `romfs`: the
    bundle as a ROMFS image, romfs.img (what the unix port's loader maps as the
    partition), and no update slot."""
    if romfs:
        build_romfs(bundle, into / "romfs.img")
    else:
        shutil.copytree(bundle, into / "ug" / "a")
        (into / "ug" / "boot.json").write_text(json.dumps({"slot": "a"}))
    shutil.copyfile(main.with_name("ugboot.py"), into / "ugboot.py")
    shutil.copyfile(main, into / "main.py")
    (into / "config.json").write_text(json.dumps(config, indent=1))
    (into / "state").mkdir()
    (into / "state" / "key").write_text(base64.b64encode(key).decode())


def flash_commands(image: Path, chip: str, port: str) -> list[list[str]]:
    """esptool (PyPI) calls that erase the flash and write a MicroPython image."""
    esptool = [sys.executable, "-m", "esptool", "--chip", chip, "--port", port]
    return [
        [*esptool, "erase-flash"],
        [*esptool, "--baud", "460800", "write-flash", "-z", FLASH_OFFSET[chip], str(image)],
    ]


def mpremote_command(port: str, staged: Path) -> list[str]:
    """One mpremote (PyPI) call that copies the staged tree onto the board: the slot
    (or the ROMFS image, when staged with one) first, then boot.json, config, key and last
    the loader, main.py after ugboot.py (an interrupted copy leaves no /main.py that
    points at a half-written slot; with a ROMFS image, the old slots are removed only once
    the image is written, so a board stopped half-way still runs the agent it had)."""
    # Runs on the board first: the slot emptied (a board provisioned again keeps no stale
    # module that could shadow the bundle's) and the directories made, so `cp -r .../a
    # :/ug` copies into /ug/a. R is the root (tests run this under the unix port).
    helper = (
        "import os\nR = ''\n"
        "def rm(p):\n"
        " try:\n  mode = os.stat(p)[0]\n except OSError:\n  return\n"
        " if mode & 0x4000:\n  for n in os.listdir(p):\n   rm(p + '/' + n)\n  os.rmdir(p)\n"
        " else:\n  os.remove(p)\n"
    )
    mkdirs = "for d in {}:\n try:\n  os.mkdir(R + d)\n except OSError:\n  pass\n"
    prepare = helper + "rm(R + '/ug/a')\n" + mkdirs.format("('/ug', '/ug/a', '/state')")
    if (staged / "romfs.img").is_file():
        # No slot: the loader runs /rom only while no /ug/boot.json names one.
        prepare = helper + mkdirs.format("('/state',)")
        drop_slots = helper + "rm(R + '/ug/boot.json')\nrm(R + '/ug/a')\nrm(R + '/ug/b')\n"
        bundle = ["romfs", "deploy", str(staged / "romfs.img"), "+", "exec", drop_slots]
    else:
        bundle = [
            "fs", "cp", "-r", str(staged / "ug" / "a"), ":/ug",
            "+", "fs", "cp", str(staged / "ug" / "boot.json"), ":/ug/boot.json",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "mpremote", "connect", port,
        "exec", prepare,
        "+", *bundle,
        "+", "fs", "cp", str(staged / "config.json"), ":/config.json",
        "+", "fs", "cp", str(staged / "state" / "key"), ":/state/key",
        "+", "fs", "cp", str(staged / "ugboot.py"), ":/ugboot.py",
        "+", "fs", "cp", str(staged / "main.py"), ":/main.py",
    ]  # fmt: skip


def _load_config(args: argparse.Namespace) -> dict[str, object]:
    try:
        config = json.loads(Path(args.config).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProvisionError(f"{args.config}: cannot read the board config: {err}") from None
    if not isinstance(config, dict):
        raise ProvisionError(f"{args.config}: the board config must be a JSON object")
    password = args.wifi_password
    if password is None:
        password = os.environ.get("UPNP_GUARD_WIFI_PASSWORD")
    if args.wifi_ssid is not None:
        config["wifi"] = {"ssid": args.wifi_ssid, "password": password or ""}
    elif "wifi" not in config:
        raise ProvisionError("WiFi credentials are required: --wifi-ssid and --wifi-password")
    try:
        validate(config, chip=args.chip)
        firmware_check(config, Path(args.main).parent)
    except BoardConfigError as err:
        raise ProvisionError(f"{args.config}: {err}") from None
    return config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upnp-guard-provision", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--bundle", type=Path, required=True, help="a upnp-guard-build bundle")
    parser.add_argument("--config", type=Path, required=True, help="the board config (JSON)")
    parser.add_argument("--wifi-ssid")
    parser.add_argument("--wifi-password", help="or UPNP_GUARD_WIFI_PASSWORD")
    parser.add_argument("--key", help="pairing key (base64 of 32 bytes); default: a new one")
    parser.add_argument("--chip", choices=sorted(CHIPS), help="enables the GPIO map check")
    parser.add_argument(
        "--main", type=Path, default=DEFAULT_MAIN, help="the loader (firmware/main.py)"
    )
    parser.add_argument("--flash", type=Path, metavar="IMAGE", help="MicroPython .bin to flash")
    parser.add_argument(
        "--romfs",
        action="store_true",
        help="the bundle into the ROMFS partition (a MicroPython image with ROMFS enabled)",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--device", help="serial port of the board (mpremote)")
    target.add_argument("--target-dir", type=Path, help="a directory standing in for the flash")
    return parser


def _run(args: argparse.Namespace) -> None:
    try:
        load_manifest(args.bundle)
    except BundleError as err:
        raise ProvisionError(f"{args.bundle}: not a valid bundle: {err}") from None
    if not args.main.is_file() or not args.main.with_name("ugboot.py").is_file():
        raise ProvisionError(f"{args.main}: no loader (firmware/main.py and ugboot.py) there")
    config = _load_config(args)
    key = parse_key(args.key) if args.key is not None else os.urandom(KEY_BYTES)
    if args.flash is not None:
        if args.device is None or args.chip is None:
            raise ProvisionError("--flash needs --device and --chip")
        if not args.flash.is_file():
            raise ProvisionError(f"{args.flash}: no such image")
    if args.target_dir is not None and args.target_dir.exists() and any(args.target_dir.iterdir()):
        raise ProvisionError(f"{args.target_dir}: not empty (a board is provisioned once)")
    with tempfile.TemporaryDirectory(prefix="ug-provision-") as tmp:
        staged = Path(tmp) / "fs"
        staged.mkdir()
        try:
            stage(args.bundle, config, key, args.main, staged, romfs=args.romfs)
        except BundleError as err:  # --romfs: an image larger than the partition
            raise ProvisionError(f"{args.bundle}: {err}") from None
        if args.flash is not None:
            for command in flash_commands(args.flash, args.chip, args.device):
                subprocess.run(command, check=True)  # noqa: S603 - fixed tool, our arguments
        if args.target_dir is not None:
            shutil.copytree(staged, args.target_dir, dirs_exist_ok=True)
        else:
            subprocess.run(mpremote_command(args.device, staged), check=True)  # noqa: S603
    name = str(config.get("friendly_name") or "UPnP Guard Agent")
    print(key_line(name, key))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except ProvisionError as err:
        print(f"upnp-guard-provision: {err}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as err:
        print(f"upnp-guard-provision: {err.cmd[2]} failed ({err.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
