"""The data file of known-vulnerable UPnP stacks: load, validate, match a device.

Format (docs/audit.md): a JSON object with `format` (1), `stacks` (how a SERVER header
names a stack and its version), `models` (device models known to embed a stack at a
version) and `advisories` (CVE IDs, affected version ranges, severity, source). The file
is validated as a whole when loaded: any mistake raises StackFileError naming where it is
("advisories[2].affected[0]: ..."), so a typo never silently disables a check.

A match is only ever a *possible* vulnerability: vendors patch old versions without
changing the string, and anyone can put any string in a SERVER header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import lan_text
from .const import (
    MAX_PATTERN_LENGTH,
    MAX_STACK_ENTRIES,
    MAX_STACKS_FILE_BYTES,
    STACKS_FILE,
    Severity,
)
from .version import Version, VersionError, VersionRange, parse_version

FORMAT = 1
_CVE = re.compile(r"CVE-\d{4}-\d{4,7}")
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_RANGE_KEYS = frozenset({"since", "before", "through"})
_STACK_KEYS = frozenset({"id", "name", "server"})
_MODEL_KEYS = frozenset({"stack", "manufacturer", "model_name", "model_number", "version"})
_ADVISORY_KEYS = frozenset({"stack", "cves", "severity", "summary", "affected", "source"})


class StackFileError(ValueError):
    """The data file is not valid; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Stack:
    """A UPnP stack and how a SERVER header names it (group `version`); None: a stack
    only model fingerprints find (a vendor's own UPnP service)."""

    id: str
    name: str
    server: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class ModelFingerprint:
    """A device model known to run `stack` at `version` (its description's fields)."""

    stack: str
    manufacturer: re.Pattern[str]
    model_name: re.Pattern[str]
    model_number: re.Pattern[str] | None
    version: Version


@dataclass(frozen=True, slots=True)
class Advisory:
    """CVEs of a stack with the versions they affect."""

    stack: str
    cves: tuple[str, ...]
    severity: Severity
    summary: str
    affected: tuple[VersionRange, ...]
    source: str


@dataclass(frozen=True, slots=True)
class StackMatch:
    """A device that possibly runs an affected version of a stack."""

    stack: Stack
    version: Version
    evidence: str  # "server" (its SERVER header) or "model" (a model fingerprint)
    advisory: Advisory


@dataclass(frozen=True, slots=True)
class StackDatabase:
    """The validated contents of one or more data files."""

    stacks: Mapping[str, Stack]
    models: tuple[ModelFingerprint, ...]
    advisories: tuple[Advisory, ...]

    def identify(
        self, server: str, manufacturer: str = "", model_name: str = "", model_number: str = ""
    ) -> list[tuple[Stack, Version, str]]:
        """Stacks a device runs by its SERVER header, else by a model fingerprint."""
        found: dict[str, tuple[Stack, Version, str]] = {}
        for stack in self.stacks.values():
            match = stack.server.search(server) if stack.server is not None else None
            if match is not None and (version := parse_version(match["version"])) is not None:
                found[stack.id] = (stack, version, "server")
        for model in self.models:
            if model.stack in found:  # the header's own word wins
                continue
            if (
                model.manufacturer.search(manufacturer)
                and model.model_name.search(model_name)
                and (model.model_number is None or model.model_number.search(model_number))
            ):
                found[model.stack] = (self.stacks[model.stack], model.version, "model")
        return list(found.values())

    def match(
        self, server: str, manufacturer: str = "", model_name: str = "", model_number: str = ""
    ) -> list[StackMatch]:
        """Every advisory whose affected versions include a stack the device runs.

        Every text is cleaned and bounded first (lan_text.clean): patterns never walk
        more than MAX_LAN_TEXT characters of a hostile string.
        """
        texts = [lan_text.clean(text) for text in (server, manufacturer, model_name, model_number)]
        return [
            StackMatch(stack, version, evidence, advisory)
            for stack, version, evidence in self.identify(*texts)
            for advisory in self.advisories
            if advisory.stack == stack.id and any(version in r for r in advisory.affected)
        ]


def _fail(where: str, why: str) -> StackFileError:
    return StackFileError(f"{where}: {why}")


def _object(
    value: Any, where: str, keys: frozenset[str], required: Iterable[str]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be an object")
    if unknown := set(value) - keys:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(keys)}")
    for key in sorted(required):
        if key not in value:
            raise _fail(where, f"'{key}' is required")
    return value


def _text(value: Any, where: str, limit: int = 512) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _fail(where, f"must be a non-empty string of at most {limit} characters")
    return value


def _pattern(value: Any, where: str, group: str | None = None) -> re.Pattern[str]:
    text = _text(value, where, MAX_PATTERN_LENGTH)
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except re.error as err:
        raise _fail(where, f"not a regular expression ({err})") from err
    if group is not None and group not in pattern.groupindex:
        raise _fail(where, f"must capture the version as (?P<{group}>...)")
    return pattern


def _version(value: Any, where: str) -> Version:
    try:
        version = Version.parse(_text(value, where, 64))
    except VersionError as err:
        raise _fail(where, str(err)) from err
    if str(version) != value:
        raise _fail(where, f"{value!r} is not a plain version (digits and dots)")
    return version


def _range(value: Any, where: str) -> VersionRange:
    data = _object(value, where, _RANGE_KEYS, ())
    if not data or ("before" in data and "through" in data):
        raise _fail(where, "needs 'since' and/or one of 'before', 'through'")
    bounds = {key: _version(data[key], f"{where}.{key}") for key in data}
    upper = bounds.get("before") or bounds.get("through")
    if "since" in bounds and upper is not None and upper < bounds["since"]:
        raise _fail(where, "the upper bound is below 'since'")
    return VersionRange(**bounds)


def _list(data: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _fail(where + key, "must be a list")
    return value


def parse_stack_file(data: Any, known: Mapping[str, Stack] | None = None) -> StackDatabase:
    """Validate a decoded data file; `known`: stacks of files loaded before (a user file
    may add advisories to the shipped stacks)."""
    root = _object(
        data, "file", frozenset({"format", "stacks", "models", "advisories"}), ["format"]
    )
    if root["format"] != FORMAT:
        raise _fail("format", f"must be {FORMAT} (this version of UPnP Guard reads {FORMAT})")
    if sum(len(_list(root, key)) for key in ("stacks", "models", "advisories")) > MAX_STACK_ENTRIES:
        raise _fail("file", f"more than {MAX_STACK_ENTRIES} entries")
    stacks = dict(known or {})
    for index, raw in enumerate(_list(root, "stacks")):
        where = f"stacks[{index}]"
        entry = _object(raw, where, _STACK_KEYS, ("id", "name"))
        stack_id = _text(entry["id"], f"{where}.id", 64)
        if not _ID.fullmatch(stack_id):
            raise _fail(f"{where}.id", "lowercase letters, digits, '.', '_' and '-' only")
        if stack_id in stacks:
            raise _fail(f"{where}.id", f"'{stack_id}' is defined twice")
        stacks[stack_id] = Stack(
            stack_id,
            _text(entry["name"], f"{where}.name", 128),
            None
            if entry.get("server") is None
            else _pattern(entry["server"], f"{where}.server", "version"),
        )

    def stack_ref(value: Any, where: str) -> str:
        if value not in stacks:
            raise _fail(where, f"no stack with id {value!r}")
        return str(value)

    models = []
    for index, raw in enumerate(_list(root, "models")):
        where = f"models[{index}]"
        entry = _object(raw, where, _MODEL_KEYS, ("stack", "manufacturer", "model_name", "version"))
        number = entry.get("model_number")
        models.append(
            ModelFingerprint(
                stack_ref(entry["stack"], f"{where}.stack"),
                _pattern(entry["manufacturer"], f"{where}.manufacturer"),
                _pattern(entry["model_name"], f"{where}.model_name"),
                None if number is None else _pattern(number, f"{where}.model_number"),
                _version(entry["version"], f"{where}.version"),
            )
        )
    advisories = []
    for index, raw in enumerate(_list(root, "advisories")):
        where = f"advisories[{index}]"
        entry = _object(raw, where, _ADVISORY_KEYS, _ADVISORY_KEYS)
        cves = _list(entry, "cves", f"{where}.")
        if not cves or not all(isinstance(c, str) and _CVE.fullmatch(c) for c in cves):
            raise _fail(f"{where}.cves", "a non-empty list of IDs like 'CVE-2012-5958'")
        try:
            severity = Severity(entry["severity"])
        except ValueError as err:
            raise _fail(f"{where}.severity", f"one of {[s.value for s in Severity]}") from err
        source = _text(entry["source"], f"{where}.source")
        if not source.startswith(("https://", "http://")):
            raise _fail(f"{where}.source", "must be an http(s) URL")
        ranges = _list(entry, "affected", f"{where}.")
        if not ranges:
            raise _fail(f"{where}.affected", "must list at least one version range")
        advisories.append(
            Advisory(
                stack_ref(entry["stack"], f"{where}.stack"),
                tuple(cves),
                severity,
                _text(entry["summary"], f"{where}.summary"),
                tuple(_range(r, f"{where}.affected[{i}]") for i, r in enumerate(ranges)),
                source,
            )
        )
    return StackDatabase(stacks, tuple(models), tuple(advisories))


def load_stack_file(path: Path, known: Mapping[str, Stack] | None = None) -> StackDatabase:
    """Read and validate one data file (blocking: run it in the executor)."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_STACKS_FILE_BYTES + 1)
    except OSError as err:
        raise StackFileError(f"{path.name}: cannot be read ({err.strerror})") from err
    if len(raw) > MAX_STACKS_FILE_BYTES:
        raise StackFileError(f"{path.name}: larger than {MAX_STACKS_FILE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise StackFileError(f"{path.name}: not JSON ({err})") from err
    try:
        return parse_stack_file(data, known)
    except StackFileError as err:
        raise StackFileError(f"{path.name}: {err}") from err


def merged(shipped: StackDatabase, extra: StackDatabase) -> StackDatabase:
    """The shipped data plus a user's file (parsed with `known=shipped.stacks`)."""
    return StackDatabase(
        {**shipped.stacks, **extra.stacks},
        shipped.models + extra.models,
        shipped.advisories + extra.advisories,
    )


def shipped_stack_file() -> Path:
    """The data file shipped with the integration."""
    return Path(__file__).with_name(STACKS_FILE)
