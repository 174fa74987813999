"""The version parser: versions compare as versions, not as strings."""

from __future__ import annotations

import pytest

from custom_components.upnp_guard.audit.version import (
    Version,
    VersionError,
    VersionRange,
    parse_version,
)


def v(text: str) -> Version:
    return Version.parse(text)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.6.6", "1.6.18"),  # a string compare says "1.6.6" > "1.6.18"
        ("1.6.9", "1.6.10"),
        ("1.9", "1.10"),
        ("2.1", "2.1.20190408"),
        ("2.3.9", "2.3.10"),
        ("1.12.1", "1.14.0"),
    ],
)
def test_versions_compare_numerically(lower: str, higher: str) -> None:
    assert v(lower) < v(higher)
    assert v(higher) > v(lower)
    assert lower > higher or lower < higher  # (the strings disagree in the first cases)


def test_trailing_zeros_are_equal() -> None:
    assert v("1.6") == v("1.6.0") == v("1.6.0.0")
    assert hash(v("1.6")) == hash(v("1.6.0"))
    assert v("1.6") <= v("1.6.0") <= v("1.6")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("1.6.6", (1, 6, 6)),
        ("2.3.3-r1", (2, 3, 3)),
        ("1.6.19a", (1, 6, 19)),
        ("2.1.20190408", (2, 1, 20190408)),
        ("7", (7,)),
        ("1.6.", (1, 6)),
    ],
)
def test_parse(text: str, parts: tuple[int, ...]) -> None:
    assert v(text).parts == parts


@pytest.mark.parametrize(
    "text",
    ["", "v1.2", ".1", "abc", "1" * 10, "1." + "9" * 10, "1.2.3.4.5.6.7", "1." * 20 + "1"],
)
def test_not_versions(text: str) -> None:
    with pytest.raises(VersionError):
        Version.parse(text)
    assert parse_version(text) is None


def test_huge_hostile_text_is_not_walked() -> None:
    assert parse_version("1" + "0" * 1_000_000) is None
    assert parse_version("1.2" + "x" * 1_000_000) == v("1.2")


def test_ranges() -> None:
    before = VersionRange(before=v("1.6.18"))
    assert v("1.6.6") in before
    assert v("1.6.17.9") in before
    assert v("1.6.18") not in before
    assert v("1.8") not in before
    span = VersionRange(since=v("1.0"), through=v("1.3"))
    assert v("1.0") in span
    assert v("1.3") in span
    assert v("1.3.0") in span
    assert v("1.3.1") not in span
    assert v("0.9") not in span
    assert v("1.4") not in span
    assert "1.2" not in span  # only versions are in a range
    assert str(span) == ">= 1.0, <= 1.3"
