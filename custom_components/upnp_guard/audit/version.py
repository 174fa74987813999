"""Versions of UPnP stacks, compared as versions ("1.6.18" > "1.6.6"), never as strings.

A version is the leading run of dot-separated decimal numbers of a text: "1.6.6" is
(1, 6, 6); "2.1.20190408" is (2, 1, 20190408); "2.3.3-r1" is (2, 3, 3) (what follows
the numbers is a vendor's build tag, ignored). Missing parts are zeros, so "1.6" equals
"1.6.0". A text that does not start with a digit, or has more than MAX_VERSION_PARTS
numbers or more than MAX_VERSION_TEXT characters of them, is not a version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Self

from .const import MAX_VERSION_PARTS, MAX_VERSION_TEXT

# At most 9 digits a part: a hostile "1.99999...9" is not turned into a huge integer.
_VERSION = re.compile(r"(\d{1,9})(?:\.(\d{1,9}))*")
_PART = re.compile(r"\d{1,9}")


class VersionError(ValueError):
    """The text is not a version (see the module docstring)."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A parsed version; equal and ordered with trailing zeros ignored."""

    parts: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Self:
        """The version `text` starts with; VersionError when there is none."""
        head = text[: MAX_VERSION_TEXT + 1]
        match = _VERSION.match(head)
        if match is None:
            raise VersionError(f"{text[:MAX_VERSION_TEXT]!r} does not start with a version")
        spelled = match.group(0)
        # The number run went on past what we read (or a part had 10+ digits).
        rest = head[len(spelled) :]
        if (
            len(spelled) > MAX_VERSION_TEXT
            or rest[:1].isdigit()
            or (rest[:1] == "." and rest[1:2].isdigit())
        ):
            raise VersionError(f"{text[:MAX_VERSION_TEXT]!r}: version too long")
        parts = tuple(int(part) for part in _PART.findall(spelled))
        if len(parts) > MAX_VERSION_PARTS:
            raise VersionError(f"{spelled!r}: more than {MAX_VERSION_PARTS} parts")
        return cls(parts)

    def _key(self) -> tuple[int, ...]:
        parts = list(self.parts)
        while parts and parts[-1] == 0:
            parts.pop()
        return tuple(parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __str__(self) -> str:
        return ".".join(str(part) for part in self.parts)


def parse_version(text: str) -> Version | None:
    """The version `text` starts with, or None (for text from the LAN)."""
    try:
        return Version.parse(text)
    except VersionError:
        return None


@dataclass(frozen=True, slots=True)
class VersionRange:
    """Affected versions: `since` <= v, and v < `before` or v <= `through` (each optional;
    at least one bound is set, docs/audit.md)."""

    since: Version | None = None
    before: Version | None = None
    through: Version | None = None

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, Version):
            return False
        if self.since is not None and version < self.since:
            return False
        if self.before is not None and not version < self.before:
            return False
        return self.through is None or version <= self.through

    def __str__(self) -> str:
        bounds = []
        if self.since is not None:
            bounds.append(f">= {self.since}")
        if self.before is not None:
            bounds.append(f"< {self.before}")
        if self.through is not None:
            bounds.append(f"<= {self.through}")
        return ", ".join(bounds)
