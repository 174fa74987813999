"""The data file of vulnerable stacks: the shipped file, matching, validation at load."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.upnp_guard.audit.stacks import (
    StackDatabase,
    StackFileError,
    load_stack_file,
    merged,
    parse_stack_file,
    shipped_stack_file,
)


@pytest.fixture(scope="module")
def shipped() -> StackDatabase:
    return load_stack_file(shipped_stack_file())


def cves(db: StackDatabase, server: str, **model: str) -> list[str]:
    return sorted(cve for m in db.match(server, **model) for cve in m.advisory.cves)


LIBUPNP_2012 = [f"CVE-2012-{n}" for n in range(5958, 5966)]
LIBUPNP_2016 = ["CVE-2016-6255", "CVE-2016-8863"]
MINI_2019 = [f"CVE-2019-{n}" for n in range(12107, 12112)]


def test_libupnp_1_6_6_has_every_libupnp_advisory(shipped: StackDatabase) -> None:
    server = "Linux/2.6.21 UPnP/1.0 Portable SDK for UPnP devices/1.6.6"
    assert cves(shipped, server) == sorted([*LIBUPNP_2012, *LIBUPNP_2016, "CVE-2020-13848"])
    assert {m.evidence for m in shipped.match(server)} == {"server"}


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("Linux UPnP/1.0 Portable SDK for UPnP devices/1.6.18", [*LIBUPNP_2016, "CVE-2020-13848"]),
        ("Linux UPnP/1.0 Portable SDK for UPnP devices/1.6.21", ["CVE-2020-13848"]),
        ("Linux UPnP/1.0 Portable SDK for UPnP devices/1.12.1", ["CVE-2020-13848"]),
        ("Linux UPnP/1.0 Portable SDK for UPnP devices/1.14.18", []),
        (
            "Linux UPnP/1.0 portable sdk for upnp devices/1.6.17",
            [*LIBUPNP_2012, *LIBUPNP_2016, "CVE-2020-13848"],
        ),
        (
            "OpenWRT UPnP/1.0 MiniUPnPd/1.0",
            ["CVE-2013-0229", "CVE-2013-0230", "CVE-2017-1000494", *MINI_2019, "CVE-2026-5720"],
        ),
        ("OpenWRT UPnP/1.0 MiniUPnPd/1.4", ["CVE-2017-1000494", *MINI_2019, "CVE-2026-5720"]),
        ("Debian/forky UPnP/1.1 MiniUPnPd/2.1", [*MINI_2019, "CVE-2026-5720"]),
        ("Debian/forky UPnP/1.1 MiniUPnPd/2.2.0", ["CVE-2026-5720"]),
        ("Debian/forky UPnP/1.1 MiniUPnPd/2.3.9", ["CVE-2026-5720"]),
        ("Debian/forky UPnP/1.1 MiniUPnPd/2.3.10", []),  # the simulated LAN's router
        ("async-upnp-client/0.48.2 UPnP/2.0 Server/1.0", []),
        ("Portable SDK for UPnP devices/", []),  # no version: nothing claimed
        ("", []),
    ],
)
def test_shipped_ranges(shipped: StackDatabase, server: str, expected: list[str]) -> None:
    assert cves(shipped, server) == sorted(expected)


def test_hostile_header_is_bounded(shipped: StackDatabase) -> None:
    # The stack name only after 10 KB of padding: matching sees the first MAX_LAN_TEXT.
    assert shipped.match("x" * 10_000 + " MiniUPnPd/1.0") == []
    assert cves(shipped, "\x1b[2J MiniUPnPd/2.3.9\r\n") == ["CVE-2026-5720"]


VALID: dict[str, Any] = {
    "format": 1,
    "stacks": [{"id": "acme", "name": "Acme UPnP", "server": r"AcmeUPnP/(?P<version>[\d.]+)"}],
    "models": [
        {"stack": "acme", "manufacturer": "^Acme$", "model_name": "^Cam 1$", "version": "3.1"}
    ],
    "advisories": [
        {
            "stack": "acme",
            "cves": ["CVE-2099-0001"],
            "severity": "high",
            "summary": "An example",
            "affected": [{"since": "3.0", "before": "3.2"}],
            "source": "https://example.org/advisory",
        }
    ],
}


def test_model_fingerprint_when_the_header_says_nothing() -> None:
    db = parse_stack_file(VALID)
    matches = db.match("Linux UPnP/1.0", manufacturer="Acme", model_name="Cam 1")
    assert [(m.evidence, str(m.version)) for m in matches] == [("model", "3.1")]
    # The header's own version wins over the fingerprint's.
    assert db.match("AcmeUPnP/3.5", manufacturer="Acme", model_name="Cam 1") == []
    assert db.match("Linux", manufacturer="Acme", model_name="Cam 2") == []


@pytest.mark.parametrize(
    ("manufacturer", "model_name", "expected"),
    [
        ("Huawei Technologies Co., Ltd.", "HG532e", ["CVE-2017-17215"]),
        ("HUAWEI", "EchoLife HG532s", ["CVE-2017-17215"]),
        ("D-Link", "DIR-859", ["CVE-2019-17621"]),
        ("D-Link Corporation", "dir859", ["CVE-2019-17621"]),
        # Neighbours that are not the vulnerable models.
        ("Huawei", "HG8245H", []),
        ("D-Link", "DIR-8590X", []),
        ("Acme", "HG532", []),  # the model name alone is not enough
    ],
)
def test_shipped_model_fingerprints(
    shipped: StackDatabase, manufacturer: str, model_name: str, expected: list[str]
) -> None:
    """Vendors' own UPnP services have no SERVER pattern: only their model finds them."""
    assert cves(shipped, "Linux UPnP/1.0", manufacturer=manufacturer, model_name=model_name) == (
        expected
    )
    for match in shipped.match("", manufacturer=manufacturer, model_name=model_name):
        assert match.evidence == "model"


def test_a_stack_without_server_pattern_needs_a_model(shipped: StackDatabase) -> None:
    # Nothing in a SERVER header can claim such a stack.
    assert cves(shipped, "huawei-hg532-upnp/1.0 dlink-dir859-upnp/1.0 HG532 DIR-859") == []


def test_user_file_extends_shipped_stacks(shipped: StackDatabase) -> None:
    extra = parse_stack_file(
        {
            "format": 1,
            "advisories": [
                {
                    **VALID["advisories"][0],
                    "stack": "miniupnpd",
                    "affected": [{"through": "2.3.10"}],
                }
            ],
        },
        known=shipped.stacks,
    )
    both = merged(shipped, extra)
    assert cves(both, "MiniUPnPd/2.3.10") == ["CVE-2099-0001"]


def _broken(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    *parents, last = path.split("/")
    node: Any = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", 2, "format: must be 1"),
        ("stacks/0/server", "AcmeUPnP/[\\d.]+", "stacks[0].server: must capture the version"),
        ("stacks/0/server", "(unbalanced", "stacks[0].server: not a regular expression"),
        ("stacks/0/id", "Acme Corp", "stacks[0].id: lowercase"),
        ("stacks/0/name", _DELETE, "stacks[0]: 'name' is required"),
        ("stacks/0/serverr", "x", "stacks[0]: unknown key(s) ['serverr']"),
        ("models/0/stack", "nope", "models[0].stack: no stack with id 'nope'"),
        ("models/0/version", "3.x", "models[0].version: '3.x' is not a plain version"),
        ("advisories/0/cves", ["CVE-12"], "advisories[0].cves: a non-empty list"),
        ("advisories/0/cves", [], "advisories[0].cves: a non-empty list"),
        ("advisories/0/severity", "dire", "advisories[0].severity: one of"),
        ("advisories/0/source", "ftp://x", "advisories[0].source: must be an http(s) URL"),
        ("advisories/0/affected", [], "advisories[0].affected: must list at least one"),
        ("advisories/0/affected/0", {}, "advisories[0].affected[0]: needs 'since'"),
        ("advisories/0/affected/0", {"before": "1", "through": "2"}, "affected[0]: needs"),
        ("advisories/0/affected/0", {"since": "3", "before": "2"}, "below 'since'"),
        ("advisories/0/affected/0", {"before": "one"}, "affected[0].before: 'one' does not"),
        ("advisories/0/affected/0", {"after": "1"}, "unknown key(s) ['after']"),
        ("advisories/0/summary", "", "advisories[0].summary: must be a non-empty string"),
        ("advisories", {}, "advisories: must be a list"),
    ],
)
def test_invalid_file_is_refused_with_where_and_why(
    tmp_path: Path, path: str, value: Any, message: str
) -> None:
    file = tmp_path / "stacks.json"
    file.write_text(json.dumps(_broken(path, value)))
    with pytest.raises(StackFileError) as err:
        load_stack_file(file)
    assert message in str(err.value)
    assert str(err.value).startswith("stacks.json: ")


def test_valid_example_loads(tmp_path: Path) -> None:
    file = tmp_path / "stacks.json"
    file.write_text(json.dumps(VALID))
    db = load_stack_file(file)
    assert list(db.stacks) == ["acme"]
    assert cves(db, "AcmeUPnP/3.1.9") == ["CVE-2099-0001"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "file: must be an object"),
        (b"{}", "'format' is required"),
        (b"[" * 100_000, "not JSON"),
        (b" " * (512 * 1024 + 1), "larger than"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "stacks.json"
    file.write_bytes(content)
    with pytest.raises(StackFileError, match=message):
        load_stack_file(file)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match="cannot be read"):
        load_stack_file(tmp_path / "absent.json")


def test_duplicate_stack_with_shipped(shipped: StackDatabase) -> None:
    with pytest.raises(StackFileError, match="'libupnp' is defined twice"):
        parse_stack_file(
            {"format": 1, "stacks": [{"id": "libupnp", "name": "x", "server": "(?P<version>x)"}]},
            known=shipped.stacks,
        )
