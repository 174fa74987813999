"""Reading a router's answers: one port-mapping row, an IGD:2 listing, a fault's code.

Pure functions over text (no I/O), strict first and tolerant second: a router (or a LAN
host writing a mapping description) may send XML that does not parse, forged rows, or
values that are no numbers. A row either parses, is recovered and marked malformed, or
is counted as unreadable — never an exception the caller did not expect.
"""

from __future__ import annotations

import html
import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from async_upnp_client.exceptions import UpnpContentError, UpnpError, UpnpResponseError
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as DET

from ..const import MAX_LAN_TEXT
from ..lan_text import clean, get_logger
from .const import MAPPING_PROTOCOLS, MAX_PORT_LISTING_BYTES
from .models import MappingKey, PortMapping

_LOGGER = get_logger(__name__)

MAX_PORT = 65535
# Lease fields are ui4; a router may report more than it grants (IGD:1 has no cap).
MAX_LEASE_FIELD = 2**32 - 1
# What a strict read of one row raises when the router's answer is hostile or broken:
# XML that does not parse, a value async-upnp-client cannot type (ValueError), junk.
ROW_ERRORS: tuple[type[Exception], ...] = (UpnpContentError, ValueError, TypeError, KeyError)
# ... and what parsing a whole listing page raises besides (ParseError is a SyntaxError).
LISTING_ERRORS: tuple[type[Exception], ...] = (*ROW_ERRORS, ET.ParseError)


def upnp_error_code(err: BaseException) -> int | None:
    """The UPnP error code of a fault, or the HTTP status of a bare error answer."""
    code = getattr(err, "error_code", None)
    if code is not None:
        return int(code)
    if isinstance(err, UpnpResponseError):
        return err.status
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fields(element: Any) -> dict[str, str]:
    """Child element texts by local name (the first of each name wins)."""
    fields: dict[str, str] = {}
    for child in element:
        fields.setdefault(_local(str(child.tag)), str(child.text or ""))
    return fields


def number(value: Any, highest: int) -> int | None:
    """A field that must be a whole number in 0..highest; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= highest else None
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(highest)):
        return None
    number = int(text)
    return number if number <= highest else None


_PROTOCOL = re.compile(r"[A-Z]{1,16}")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def mapping_from_fields(
    fields: Mapping[str, Any],
    *,
    description_field: str = "NewPortMappingDescription",
    lease_field: str = "NewLeaseDuration",
    malformed: bool = False,
) -> PortMapping | None:
    """One row from its fields (texts, or values async-upnp-client already typed).

    None when what identifies a row is missing or no number (external port, internal
    port, protocol): a bad row, counted by the caller, never an exception. Other
    surprises (a client that is no address, an odd protocol or lease) keep the row,
    marked malformed, with its texts cleaned.
    """
    external_port = number(fields.get("NewExternalPort"), MAX_PORT)
    internal_port = number(fields.get("NewInternalPort"), MAX_PORT)
    protocol = str(fields.get("NewProtocol") or "").strip().upper()
    # A protocol is a short word (TCP, UDP, UDPLITE); anything else names no row (and
    # would break the key's text form, key_id).
    if external_port is None or internal_port is None or _PROTOCOL.fullmatch(protocol) is None:
        return None
    lease = number(fields.get(lease_field) or 0, MAX_LEASE_FIELD)
    remote_host = str(fields.get("NewRemoteHost") or "").strip()
    internal_client = str(fields.get("NewInternalClient") or "").strip()
    enabled = fields.get("NewEnabled", True)
    if not isinstance(enabled, bool):
        enabled = str(enabled).strip().lower() in ("1", "true", "yes")
    malformed = (
        malformed
        or lease is None
        or protocol not in MAPPING_PROTOCOLS
        or not _is_ip(internal_client)
        or (remote_host != "" and not _is_ip(remote_host))
    )
    if malformed:
        remote_host, internal_client = clean(remote_host), clean(internal_client)
    return PortMapping(
        remote_host=remote_host,
        external_port=external_port,
        protocol=protocol,
        internal_client=internal_client,
        internal_port=internal_port,
        enabled=enabled,
        description=str(fields.get(description_field) or "")[:MAX_LAN_TEXT],
        # A lease nobody can read is treated as the worst case: permanent.
        lease_duration=lease or 0,
        malformed=malformed,
    )


class UnreadableListing(UpnpContentError):
    """A NewPortListing (or its SOAP answer) that does not parse as a whole."""


def parse_port_listing(listing: str) -> list[PortMapping]:
    """Parse IGD:2's NewPortListing (a PortMappingList XML document, defused).

    Strict: any row that does not parse makes the whole listing UnreadableListing; the
    caller then reads it row by row (`split_port_listing`).
    """
    if len(listing) > MAX_PORT_LISTING_BYTES:
        raise UpnpError(f"port listing larger than {MAX_PORT_LISTING_BYTES} bytes")
    if not listing.strip():
        return []
    try:
        root = DET.fromstring(listing)
    except (ET.ParseError, DefusedXmlException) as err:
        # A router answering junk (or entity bombs) is an error of that router, handled
        # like any other UPnP error by the caller, never an exception that escapes.
        raise UnreadableListing(f"unreadable port listing: {err}") from err
    mappings = []
    for entry in root:
        if _local(str(entry.tag)) != "PortMappingEntry":
            continue
        mapping = mapping_from_fields(
            _fields(entry), description_field="NewDescription", lease_field="NewLeaseTime"
        )
        if mapping is None or mapping.malformed:
            raise UnreadableListing("port listing with a row that is not a port mapping")
        mappings.append(mapping)
    return mappings


# Tolerant reading: tag patterns (any namespace prefix) over the raw text. No pattern
# backtracks more than linearly: each is anchored on literal tag names.
def _open_tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"<(?:[\w.-]+:)?{name}\s*>")


def _close_tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"</(?:[\w.-]+:)?{name}\s*>")


_ENTRY_OPEN = re.compile(r"<(?:([\w.-]+):)?PortMappingEntry\s*>")
_ENTRY_CLOSE = _close_tag("PortMappingEntry")
_LIST_CLOSE = _close_tag("PortMappingList")
_KEY_FIELDS = {
    name: re.compile(rf"<(?:[\w.-]+:)?{name}\s*(?:/>|>([^<]*)</)")
    for name in ("NewRemoteHost", "NewExternalPort", "NewProtocol")
}
_CDATA_OPEN = "<![CDATA["
_CDATA_CLOSE = "]]>"


def _last(pattern: re.Pattern[str], text: str, start: int = 0) -> re.Match[str] | None:
    last = None
    for last in pattern.finditer(text, start):  # noqa: B007 - the last match is wanted
        pass
    return last


def recover_entry(body: str, description_field: str) -> dict[str, str] | None:
    """The fields of a one-row answer whose description broke the XML, or None.

    The router writes the description raw (miniupnpd does: `]]>`, `a&b<c>`). Its text
    runs from the first opening tag to the *last* closing tag: whatever the description
    holds comes before the router's own closing tag, and nothing a LAN host chose comes
    after it in a one-row answer. That span is cut out, the rest must parse (defused);
    the description comes back as the raw text, untrusted.
    """
    description = ""
    opened = _open_tag(description_field).search(body)
    if opened is not None:
        closed = _last(_close_tag(description_field), body, opened.end())
        if closed is None:
            return None
        description = body[opened.start() + len(opened.group()) : closed.start()]
        body = body[: opened.start()] + body[closed.end() :]
    try:
        root = DET.fromstring(body)
    except ET.ParseError, DefusedXmlException:
        return None
    response = next((el for el in root.iter() if _local(str(el.tag)).endswith("Response")), None)
    if response is None:
        return None
    fields = _fields(response)
    fields[description_field] = description
    return fields


def listing_text(body: str) -> str | None:
    """NewPortListing's text from a SOAP answer that does not parse as a whole."""
    opened = _open_tag("NewPortListing").search(body)
    if opened is None:
        return None
    closed = _last(_close_tag("NewPortListing"), body, opened.end())
    if closed is None:
        return None
    text = body[opened.end() : closed.start()].strip()
    if text.startswith(_CDATA_OPEN) and text.endswith(_CDATA_CLOSE):
        return text[len(_CDATA_OPEN) : -len(_CDATA_CLOSE)]
    return html.unescape(text)


def split_port_listing(listing: str) -> tuple[list[PortMapping], list[MappingKey], int]:
    """Read a listing that does not parse as a whole, row by row.

    A row is the text from one PortMappingEntry tag to the next. Rows that parse alone
    are kept; for the others (the hostile row, or a row a description forged) only the
    key is taken, from the fields the router writes before the description, so that the
    caller can ask the router for that one row. Returns (rows, keys to ask, rows without
    even a key).
    """
    rows: list[PortMapping] = []
    ask: list[MappingKey] = []
    bad = 0
    starts = list(_ENTRY_OPEN.finditer(listing))
    for index, start in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(listing)
        chunk = listing[start.start() : end]
        prefix = start.group(1)
        row = _parse_chunk(chunk, prefix)
        if row is not None:
            rows.append(row)
            continue
        found = {name: pattern.search(chunk) for name, pattern in _KEY_FIELDS.items()}
        port = found["NewExternalPort"]
        protocol = found["NewProtocol"]
        external_port = number(port.group(1) if port else None, MAX_PORT)
        if external_port is None or protocol is None or not protocol.group(1):
            bad += 1
            continue
        remote = found["NewRemoteHost"]
        ask.append(
            (
                str(remote.group(1) or "").strip() if remote else "",
                external_port,
                protocol.group(1).strip().upper(),
            )
        )
    return rows, ask, bad


def _parse_chunk(chunk: str, prefix: str | None) -> PortMapping | None:
    """One PortMappingEntry, only if it parses alone with nothing after its end tag."""
    closed = _last(_ENTRY_CLOSE, chunk)
    if closed is None:
        return None
    # Anything after a row's end tag but the list's own end tag is forged text.
    tail = chunk[closed.end() :].strip()
    if tail and _LIST_CLOSE.fullmatch(tail) is None:
        return None
    declare = f' xmlns:{prefix}="urn:upnp-guard:row"' if prefix else ""
    try:
        root = DET.fromstring(
            f"<PortMappingList{declare}>{chunk[: closed.end()]}</PortMappingList>"
        )
    except ET.ParseError, DefusedXmlException:
        return None
    entries = list(root)
    if len(entries) != 1:
        return None
    mapping = mapping_from_fields(
        _fields(entries[0]), description_field="NewDescription", lease_field="NewLeaseTime"
    )
    return None if mapping is None or mapping.malformed else mapping


def log_malformed(mapping: PortMapping) -> None:
    # The logger's filter (lan_text) shows the description's line breaks and escapes as
    # text: it can neither forge a log line nor drive a terminal.
    _LOGGER.warning(
        "Port mapping %s/%s to %s:%s has a description that breaks the router's XML: '%s'",
        mapping.external_port,
        mapping.protocol,
        mapping.internal_client,
        mapping.internal_port,
        mapping.description,
    )
