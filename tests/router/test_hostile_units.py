"""Hostile strings and rows, without a LAN: the sanitiser (lan_text) and the tolerant parsers.

The LAN tests (test_hostile_lan.py) perform the same attacks on the real miniupnpd; these
pin down each parser decision and each sink's answer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientConnectionError
from async_upnp_client.exceptions import UpnpActionError, UpnpActionResponseError
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from markdown_it import MarkdownIt
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import (
    CONF_KIND,
    CONF_LOCATION,
    DOMAIN,
    MAX_LAN_TEXT,
    MAX_LOG_ARG,
    EntryKind,
)
from custom_components.upnp_guard.lan_text import clean, code, get_logger, log, markdown
from custom_components.upnp_guard.router.const import MAX_UNREADABLE_ROWS
from custom_components.upnp_guard.router.coordinator import RouterCoordinator
from custom_components.upnp_guard.router.errors import action_failed
from custom_components.upnp_guard.router.igd import IgdClient
from custom_components.upnp_guard.router.issues import table_issue_id
from custom_components.upnp_guard.router.listing import (
    UnreadableListing,
    mapping_from_fields,
    parse_port_listing,
    recover_entry,
    split_port_listing,
)
from custom_components.upnp_guard.router.models import PortMappingTable, WanStatus

RENDER = MarkdownIt("commonmark")

# The attacks of the issue: a phishing link, a tracking image, a forged second line.
HOSTILE = [
    "[login](http://evil.example/)",
    "![](http://x/beacon)",
    "first line\nSECOND LINE forged",
    "a`b``c",
    "`leading and trailing`",
    "<img src=http://x/beacon>",
    "**bold** _it_ ~~s~~ &amp; \\",
    "http://evil.example/ www.evil.example",
    "\u202eevil\u200b\x1b[31m\x00",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_placeholders_render_as_literal_text(text: str) -> None:
    for placeholder in (code(text), markdown(text)):
        html = RENDER.renderInline(f"description: {placeholder}.")
        assert "<a" not in html
        assert "<img" not in html
        assert "<strong" not in html
        assert "<em" not in html
        assert "\n" not in placeholder
    # A code span shows the clean text exactly, backticks included.
    shown = RENDER.renderInline(code(text))
    assert shown.startswith("<code>")
    assert shown == f"<code>{RENDER.utils.escapeHtml(clean(text))}</code>"  # type: ignore[attr-defined]


def test_inert_text_stays_plain_and_empty_is_a_dash() -> None:
    for text in ("Hall light", "FRITZ!Box 7590", "10.0.0.5", "1.1.1.1,8.8.8.8", "Skype (TCP)"):
        assert markdown(text) == text
    assert markdown("") == markdown(None) == code(None) == "-"
    assert markdown("[x](y)") != "[x](y)"


def test_clean_strips_controls_collapses_space_and_bounds() -> None:
    assert clean("line1\nline2\r\n\tend") == "line1 line2 end"
    assert clean("\u202eabc\u200bdef\x1b[31m") == "abcdef [31m"
    long = clean("x" * 10_000_000)
    assert len(long) == MAX_LAN_TEXT
    assert long.endswith("…")
    # The fence outgrows the longest backtick run: bounded too.
    assert len(code("`" * 1000)) <= 3 * MAX_LAN_TEXT + 2


def test_log_escapes_controls_and_bounds() -> None:
    assert log("a\nb\x1b[2Jc\u202e") == "a\\x0ab\\x1b[2Jc\\u202e"
    assert len(log("y" * 100_000)) == MAX_LOG_ARG


def test_logger_filter_makes_every_argument_one_safe_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = get_logger("custom_components.upnp_guard.test_lan_text")
    assert get_logger(logger.name).filters == logger.filters  # attached once
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("device %s said %s (%d)", "evil\nFAKE ERROR line", ValueError("x\ry"), 3)
        logger.info("mapping %(name)s", {"name": "a\nb"})
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["device evil\\x0aFAKE ERROR line said x\\x0dy (3)", "mapping a\\x0ab"]


# -- the router's rows --------------------------------------------------------------------

ENVELOPE = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    "<s:Body><u:GetGenericPortMappingEntryResponse "
    'xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2">'
    "<NewRemoteHost></NewRemoteHost><NewExternalPort>13389</NewExternalPort>"
    "<NewProtocol>TCP</NewProtocol><NewInternalPort>3389</NewInternalPort>"
    "<NewInternalClient>10.1.2.3</NewInternalClient><NewEnabled>1</NewEnabled>"
    "<NewPortMappingDescription>{description}</NewPortMappingDescription>"
    "<NewLeaseDuration>3600</NewLeaseDuration>"
    "</u:GetGenericPortMappingEntryResponse></s:Body></s:Envelope>"
)


@pytest.mark.parametrize(
    "description",
    [
        "]]>",
        "a&b<c>",
        "x</NewPortMappingDescription><NewLeaseDuration>1</NewLeaseDuration>",
        "<!--",
        "<![CDATA[",
        "&undefined;",
    ],
)
def test_a_row_whose_description_breaks_xml_is_recovered_and_marked(description: str) -> None:
    fields = recover_entry(ENVELOPE.format(description=description), "NewPortMappingDescription")
    assert fields is not None
    mapping = mapping_from_fields(fields, malformed=True)
    assert mapping is not None
    assert (mapping.external_port, mapping.protocol, mapping.internal_port) == (13389, "TCP", 3389)
    assert mapping.internal_client == "10.1.2.3"
    # The router writes the lease after the description: the forged one never wins.
    assert mapping.lease_duration == 3600
    assert mapping.description == description
    assert mapping.malformed


def test_recovery_refuses_entity_expansion_and_junk() -> None:
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + ENVELOPE.format(description="&a;")
    assert (
        recover_entry(bomb.replace('<?xml version="1.0"?>', ""), "NewPortMappingDescription")
        is None
    )
    assert recover_entry("<<<not xml", "NewPortMappingDescription") is None
    assert recover_entry("", "NewPortMappingDescription") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"NewExternalPort": "abc"},
        {"NewExternalPort": "65536"},
        {"NewExternalPort": "-1"},
        {"NewExternalPort": "٣"},  # a digit, but not an ASCII one
        {"NewInternalPort": None},
        {"NewProtocol": ""},
        {"NewProtocol": "T_CP"},
        {"NewProtocol": "TCP\nforged"},
    ],
)
def test_a_row_without_a_readable_key_is_a_bad_row_not_a_crash(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "NewExternalPort": "8080",
        "NewProtocol": "TCP",
        "NewInternalPort": "80",
        "NewInternalClient": "10.1.2.3",
    }
    assert mapping_from_fields(fields) is not None
    assert mapping_from_fields(fields | changes) is None


def test_odd_fields_keep_the_row_marked_malformed_and_cleaned() -> None:
    mapping = mapping_from_fields(
        {
            "NewExternalPort": "8080",
            "NewProtocol": "udp",
            "NewInternalPort": "80",
            "NewInternalClient": "[x](http://y)\nz",
            "NewLeaseDuration": "soon",
        }
    )
    assert mapping is not None
    assert mapping.malformed
    assert mapping.internal_client == "[x](http://y) z"
    assert mapping.protocol == "UDP"
    assert mapping.lease_duration == 0  # unreadable lease: the worst case, permanent


ROW = (
    "<p:PortMappingEntry><p:NewRemoteHost></p:NewRemoteHost>"
    "<p:NewExternalPort>{port}</p:NewExternalPort><p:NewProtocol>TCP</p:NewProtocol>"
    "<p:NewInternalPort>{port}</p:NewInternalPort>"
    "<p:NewInternalClient>10.1.2.3</p:NewInternalClient><p:NewEnabled>1</p:NewEnabled>"
    "<p:NewDescription>{description}</p:NewDescription>"
    "<p:NewLeaseTime>3600</p:NewLeaseTime></p:PortMappingEntry>"
)


def listing(*rows: tuple[int, str]) -> str:
    return (
        '<p:PortMappingList xmlns:p="urn:schemas-upnp-org:gw:WANIPConnection">'
        + "".join(ROW.format(port=port, description=d) for port, d in rows)
        + "</p:PortMappingList>"
    )


def test_a_listing_with_a_hostile_row_is_split_good_rows_kept_the_bad_one_asked_for() -> None:
    text = listing((4000, "ok"), (13389, "a&b<c>"), (5000, "fine"))
    with pytest.raises(UnreadableListing):
        parse_port_listing(text)
    rows, ask, bad = split_port_listing(text)
    assert [(r.external_port, r.description) for r in rows] == [(4000, "ok"), (5000, "fine")]
    assert ask == [("", 13389, "TCP")]
    assert bad == 0


def test_a_forged_row_is_asked_for_never_trusted() -> None:
    # A description that closes its row and opens a phantom one on port 445.
    forged = (
        "x</p:NewDescription><p:NewLeaseTime>1</p:NewLeaseTime></p:PortMappingEntry>"
        "<p:PortMappingEntry><p:NewExternalPort>445</p:NewExternalPort>"
        "<p:NewProtocol>TCP</p:NewProtocol>junk"
    )
    rows, ask, bad = split_port_listing(listing((4000, "ok"), (13389, forged)))
    assert [r.external_port for r in rows] == [4000, 13389]
    # The phantom row (with the real row's tail) does not parse alone: the router is
    # asked for it by key, and a key it does not have is dropped.
    assert ask == [("", 445, "TCP")]
    assert bad == 0


def test_a_row_without_even_a_key_is_counted() -> None:
    text = listing((4000, "ok")).replace("</p:PortMappingList>", "<p:PortMappingEntry>junk")
    rows, ask, bad = split_port_listing(text)
    assert [r.external_port for r in rows] == [4000]
    assert (ask, bad) == ([], 1)


def test_a_listing_row_with_a_non_numeric_port_is_unreadable_not_a_crash() -> None:
    with pytest.raises(UnreadableListing):
        parse_port_listing(listing((4000, "ok")).replace(">4000<", ">four<", 1))


# -- the walk and the coordinator, with a scripted router ---------------------------------


class FakeAction:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    async def async_call(self, **args: Any) -> Any:
        self.calls += 1
        return self.answer(**args)


class FakeService:
    service_type = "urn:schemas-upnp-org:service:WANIPConnection:1"

    def __init__(self, actions: dict[str, FakeAction]) -> None:
        self.actions = actions


class FakeDevice:
    device_type = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    friendly_name = "router"

    def __init__(self, actions: dict[str, FakeAction]) -> None:
        self.all_services = [FakeService(actions)]


def generic(index: int, port: object) -> dict[str, Any]:
    if index >= 5:
        raise UpnpActionResponseError(status=500, error_code=713)
    return {
        "NewRemoteHost": "",
        "NewExternalPort": port,
        "NewProtocol": "TCP",
        "NewInternalPort": 80,
        "NewInternalClient": "10.1.2.3",
        "NewEnabled": True,
        "NewPortMappingDescription": "x",
        "NewLeaseDuration": 60,
    }


async def test_walk_counts_a_bad_row_and_keeps_the_others() -> None:
    action = FakeAction(
        lambda NewPortMappingIndex: generic(
            NewPortMappingIndex, "junk" if NewPortMappingIndex == 2 else 1000 + NewPortMappingIndex
        )
    )
    table = await IgdClient(
        FakeDevice({"GetGenericPortMappingEntry": action})
    ).async_list_port_mappings()  # type: ignore[arg-type]
    assert [m.external_port for m in table] == [1000, 1001, 1003, 1004]
    assert table.unreadable == 1


async def test_walk_stops_after_max_unreadable_rows_of_junk() -> None:
    action = FakeAction(lambda NewPortMappingIndex: {"NewExternalPort": "junk"})
    client = IgdClient(FakeDevice({"GetGenericPortMappingEntry": action}))  # type: ignore[arg-type]
    table = await client.async_list_port_mappings()
    assert (list(table), table.unreadable) == ([], MAX_UNREADABLE_ROWS)
    assert action.calls == MAX_UNREADABLE_ROWS


class ScriptedClient:
    """The IgdClient surface the coordinator uses, answering from attributes."""

    def __init__(self) -> None:
        self.table = PortMappingTable()
        self.error: Exception | None = None

    async def async_wan_status(self) -> WanStatus:
        return WanStatus()

    async def async_list_port_mappings(self) -> PortMappingTable:
        if self.error is not None:
            raise self.error
        return self.table

    async def async_dns_servers(self) -> None:
        return None


async def test_an_unreadable_table_is_an_error_repair_never_a_silent_failure(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Router",
        data={
            CONF_KIND: EntryKind.ROUTER.value,
            CONF_LOCATION: "http://10.0.0.1:5000/rootDesc.xml",
        },
    )
    entry.add_to_hass(hass)
    client = ScriptedClient()
    coordinator = RouterCoordinator(hass, entry, client, "10.0.0.2")  # type: ignore[arg-type]
    registry = ir.async_get(hass)
    issue_id = table_issue_id(entry.entry_id)

    # The whole table: the router answers, but nothing of it parses.
    client.error = UnreadableListing("<![CDATA[ junk\n[x](http://y)")
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["rows"] == "all"
    assert "<a" not in RENDER.renderInline(issue.translation_placeholders["error"])

    # Some rows: the rest is audited, and the issue says how many are missing.
    client.error = None
    client.table = PortMappingTable([mapping_from_fields(generic(0, 4000))])  # type: ignore[list-item]
    client.table.unreadable = 3
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert len(coordinator.data.reports) == 1
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["rows"] == "3"  # type: ignore[index]

    # All readable again: the issue goes.
    client.table.unreadable = 0
    await coordinator.async_refresh()
    assert registry.async_get_issue(DOMAIN, issue_id) is None

    # Unreachable is no table issue.
    client.error = ClientConnectionError("no route")
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    await coordinator.async_shutdown()


def test_a_refused_actions_fault_text_reaches_the_error_cleaned_and_bounded() -> None:
    """The router's fault description is LAN text: no control characters, bounded."""
    hostile = "refused\n\x1b[31mcall +1 555 now\u202e" + "x" * 5000
    err = UpnpActionError(error_code=606, error_desc=hostile)
    shown = action_failed(err).translation_placeholders["error"]
    assert "\n" not in shown
    assert "\x1b" not in shown
    assert "\u202e" not in shown
    assert len(shown) <= MAX_LAN_TEXT
    assert shown.startswith("Received UPnP error 606 (refused")


def test_every_module_logs_through_the_lan_text_filter() -> None:
    """Log arguments often carry LAN text: no module bypasses lan_text.get_logger."""
    package = Path(__file__).resolve().parents[2] / "custom_components" / "upnp_guard"
    bypassing = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "lan_text.py" and "getLogger(" in path.read_text()
    ]
    assert bypassing == []
