"""Firmware bundles for our agents' over-the-air updates, as the integration reads them.

A bundle is the directory `upnpguard-<version>/` the build command writes (fleet contract:
the compiled files, `manifest.json`, the digest = SHA-256 of the canonical manifest), plus
an optional `NOTES.md` whose start becomes the update entity's release summary. Bundles
come from the directory the user sets in the agent's options; one that does not check out
is skipped (and logged), never offered. Reading happens in the executor; everything read
is bounded by the same limits the agent applies (firmware/upnpguard/limits.py), so a
bundle the agent would refuse is refused here first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agent_auth import AgentKey
from ..lan_text import get_logger

_LOGGER = get_logger(__name__)

MANIFEST = "manifest.json"
NOTES = "NOTES.md"
# The agent's limits (firmware/upnpguard/ota_receive.py): a bundle beyond them is never
# offered.
CHUNK_BYTES = 2048
MANIFEST_MAX = 8192
FILES_MAX = 64
FILE_MAX = 65536
BUNDLE_MAX = 524288
PATH_MAX = 64
# The entity's release summary (Home Assistant keeps at most 255 characters).
SUMMARY_MAX = 255
_NOTES_READ_MAX = 4096
_VERSION = re.compile(r"^([0-9]{1,6})\.([0-9]{1,6})\.([0-9]{1,6})$")
_PATH = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# Directories looked at in the configured one (a bundle per directory): a bound on a
# directory someone filled with junk.
_SCAN_MAX = 64
AUTH_CONTEXT = b"UG-OTA-1\n"

Version = tuple[int, int, int]


class BundleError(Exception):
    """A bundle that does not check out (the message says why, for the log)."""


def parse_version(text: object) -> Version | None:
    """`x.y.z` -> integer tuple (compared as such, never as strings), else None."""
    match = _VERSION.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def canonical(manifest: dict[str, Any]) -> bytes:
    """The manifest bytes the digest covers (and the agent receives)."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def update_auth(key: AgentKey, version: str, digest: str) -> str:
    """BeginUpdate's NewAuth: HMAC-SHA256 (hex) of "UG-OTA-1\\n" + version + "\\n" + digest."""
    return key.mac(AUTH_CONTEXT + version.encode() + b"\n" + digest.encode()).hex()


def _valid_path(path: object) -> bool:
    if not isinstance(path, str) or not 0 < len(path) <= PATH_MAX or path == MANIFEST:
        return False
    if _PATH.match(path) is None:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Bundle:
    """A bundle whose manifest checked out (its files are checked by read_files)."""

    directory: Path
    version: str
    digest: str
    manifest: bytes  # canonical
    files: tuple[FileEntry, ...]
    notes: str | None

    @property
    def parsed_version(self) -> Version:
        parsed = parse_version(self.version)
        if parsed is None:  # pragma: no cover - read_bundle checked it
            raise BundleError("no version")
        return parsed


def _files(manifest: dict[str, Any]) -> tuple[FileEntry, ...]:
    files = manifest.get("files")
    if not isinstance(files, list) or not 0 < len(files) <= FILES_MAX:
        raise BundleError("files: not a list of 1..64 entries")
    out: list[FileEntry] = []
    seen: set[str] = set()
    for entry in files:
        if not isinstance(entry, dict):
            raise BundleError("files: an entry is not an object")
        path, size, sha = entry.get("path"), entry.get("size"), entry.get("sha256")
        if not _valid_path(path) or not isinstance(path, str) or path in seen:
            raise BundleError(f"files: bad path {str(path)[:PATH_MAX]!r}")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= FILE_MAX:
            raise BundleError(f"files: bad size for {path}")
        if not isinstance(sha, str) or _HEX64.match(sha) is None:
            raise BundleError(f"files: bad sha256 for {path}")
        seen.add(path)
        out.append(FileEntry(path, size, sha))
    if sum(entry.size for entry in out) > BUNDLE_MAX:
        raise BundleError("files: larger than a slot")
    return tuple(out)


def read_bundle(directory: Path) -> Bundle:
    """The bundle in `directory`, its manifest validated (raises BundleError)."""
    path = directory / MANIFEST
    try:
        with path.open("rb") as handle:
            raw = handle.read(MANIFEST_MAX * 4 + 1)
    except OSError as err:
        raise BundleError(f"cannot read {MANIFEST}: {err.strerror}") from err
    if len(raw) > MANIFEST_MAX * 4:
        raise BundleError(f"{MANIFEST} too large")
    try:
        manifest = json.loads(raw)
    except ValueError as err:
        raise BundleError(f"{MANIFEST} is not JSON") from err
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        raise BundleError("not a format 1 manifest")
    if manifest.get("name") != "upnpguard":
        raise BundleError("not an upnpguard bundle")
    version = manifest.get("version")
    if parse_version(version) is None or not isinstance(version, str):
        raise BundleError("no x.y.z version")
    files = _files(manifest)
    body = canonical(manifest)
    if len(body) > MANIFEST_MAX:
        raise BundleError(f"{MANIFEST} too large")
    return Bundle(
        directory=directory,
        version=version,
        digest=hashlib.sha256(body).hexdigest(),
        manifest=body,
        files=files,
        notes=_notes(directory),
    )


def _notes(directory: Path) -> str | None:
    try:
        with (directory / NOTES).open("rb") as handle:
            text = handle.read(_NOTES_READ_MAX).decode("utf-8", "replace")
    except OSError:
        return None
    return text.strip()[:SUMMARY_MAX] or None


def scan(directory: Path) -> list[Bundle]:
    """Every valid bundle in `directory` (itself one, or its subdirectories), newest
    first. Invalid ones are logged and skipped."""
    candidates = [directory]
    try:
        candidates += sorted(p for p in directory.iterdir() if p.is_dir())[:_SCAN_MAX]
    except OSError as err:
        _LOGGER.warning("Cannot read the bundle directory %s: %s", directory, err.strerror)
        return []
    found: list[Bundle] = []
    for candidate in candidates:
        if not (candidate / MANIFEST).is_file():
            continue
        try:
            found.append(read_bundle(candidate))
        except BundleError as err:
            _LOGGER.warning("Skipping the firmware bundle %s: %s", candidate.name, err)
    found.sort(key=lambda bundle: bundle.parsed_version, reverse=True)
    return found


def read_files(bundle: Bundle) -> list[tuple[str, bytes]]:
    """Every file of the bundle, each checked against its size and SHA-256."""
    base = bundle.directory.resolve()
    out: list[tuple[str, bytes]] = []
    for entry in bundle.files:
        path = (base / entry.path).resolve()
        if not path.is_relative_to(base):  # a symlink out of the bundle
            raise BundleError(f"{entry.path} leaves the bundle")
        try:
            with path.open("rb") as handle:
                data = handle.read(FILE_MAX + 1)
        except OSError as err:
            raise BundleError(f"cannot read {entry.path}: {err.strerror}") from err
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise BundleError(f"{entry.path} does not match the manifest")
        out.append((entry.path, data))
    return out


def chunks(bundle: Bundle, files: list[tuple[str, bytes]]) -> Iterator[tuple[str, int, str]]:
    """WriteUpdate's arguments in order: the canonical manifest first, then every file,
    in CHUNK_BYTES pieces as base64 (a file of 0 bytes is one empty chunk)."""
    for path, data in ((MANIFEST, bundle.manifest), *files):
        offset = 0
        while True:
            piece = data[offset : offset + CHUNK_BYTES]
            yield path, offset, base64.b64encode(piece).decode()
            offset += len(piece)
            if offset >= len(data):
                break


def total_bytes(bundle: Bundle, files: list[tuple[str, bytes]]) -> int:
    return len(bundle.manifest) + sum(len(data) for _path, data in files)
