"""The bundle as a ROMFS image (fleet/upnp_guard_fleet/romfs.py, `upnp-guard-build
--romfs`): MicroPython's format, every file of the bundle in it, and a bundle that does
not verify or does not fit a partition refused with nothing written. That the agent runs
from the image: tests/fleet/test_build_lan.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from upnp_guard_fleet import build, romfs
from upnp_guard_fleet.bundle import BundleError, load_manifest

from tests.fleet.build_fixtures import built_bundle, bundle  # noqa: F401 - fixtures

ROMFS_HEADER = b"\xd2\xcd\x31"  # MicroPython's ROMFS signature (docs: "Working with ROMFS")


def test_image_holds_every_file_of_the_bundle(built_bundle: Path, tmp_path: Path) -> None:
    image = romfs.build_romfs(built_bundle, tmp_path / "agent.romfs").read_bytes()
    assert image.startswith(ROMFS_HEADER)
    assert len(image) <= romfs.ROMFS_PARTITION_BYTES
    for entry in load_manifest(built_bundle)["files"]:
        assert (built_bundle / entry["path"]).read_bytes() in image, entry["path"]
    assert (built_bundle / "manifest.json").read_bytes() in image


def test_default_path_is_beside_the_bundle(bundle: Path) -> None:
    assert romfs.build_romfs(bundle) == bundle.with_name(f"{bundle.name}.romfs")
    assert bundle.with_name(f"{bundle.name}.romfs").is_file()


def test_a_tampered_bundle_gives_no_image(bundle: Path, tmp_path: Path) -> None:
    module = bundle / "upnpguard" / "log.mpy"
    module.write_bytes(module.read_bytes() + b"\0")
    with pytest.raises(BundleError, match=r"log\.mpy"):
        romfs.build_romfs(bundle, tmp_path / "agent.romfs")
    assert not (tmp_path / "agent.romfs").exists()


def test_an_image_larger_than_the_partition_is_refused(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(romfs, "ROMFS_PARTITION_BYTES", 4096)
    with pytest.raises(BundleError, match="4096-byte partition"):
        romfs.build_romfs(bundle, tmp_path / "agent.romfs")
    assert not (tmp_path / "agent.romfs").exists()


def test_the_build_command_writes_the_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    firmware = Path(__file__).resolve().parents[2] / "firmware"
    assert build.main(["--src", str(firmware), "--out", str(tmp_path), "--romfs"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("romfs "))
    image = Path(line.split()[1])
    assert image.read_bytes().startswith(ROMFS_HEADER)
    assert f"({image.stat().st_size} bytes)" in line
