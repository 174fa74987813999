"""Talk to an Internet Gateway Device through async-upnp-client's raw UpnpActions.

async-upnp-client's IGD profile has gaps we cannot live with: it sends
`lease_duration.seconds` (a lease of two days becomes 0, i.e. permanent), it has no
wildcard remote host (it needs an IPv4Address), and it lacks IGD:2's
GetListOfPortMappings and DeletePortMappingRange. So the actions are called directly.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from async_upnp_client.client import UpnpAction, UpnpDevice, UpnpService
from async_upnp_client.const import HttpResponse
from async_upnp_client.exceptions import (
    UpnpActionError,
    UpnpContentError,
    UpnpError,
    UpnpResponseError,
)
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as DET

from ..const import MAX_LAN_TEXT
from ..lan_text import clean, get_logger
from .const import (
    COMMON_INTERFACE_SERVICE_TYPE,
    CONNECTION_SERVICE_TYPES,
    END_OF_TABLE_CODES,
    ERR_NO_SUCH_ENTRY,
    ERR_PORT_MAPPING_NOT_FOUND,
    LAN_HOST_CONFIG_SERVICE_TYPE,
    LIST_PAGE_SIZE,
    MAPPING_PROTOCOLS,
    MAX_PORT_LISTING_BYTES,
    MAX_PORT_MAPPINGS,
    MAX_UNREADABLE_ROWS,
    RANGE_DELETE_CODES,
)
from .models import MappingKey, PortMapping, PortMappingTable, RemovalResult, WanStatus

_LOGGER = get_logger(__name__)

MAX_PORT = 65535
# Lease fields are ui4; a router may report more than it grants (IGD:1 has no cap).
MAX_LEASE_FIELD = 2**32 - 1
# What a strict read of one row raises when the router's answer is hostile or broken:
# XML that does not parse, a value async-upnp-client cannot type (ValueError), junk.
ROW_ERRORS: tuple[type[Exception], ...] = (UpnpContentError, ValueError, TypeError, KeyError)
# ... and what parsing a whole listing page raises besides (ParseError is a SyntaxError).
LISTING_ERRORS: tuple[type[Exception], ...] = (*ROW_ERRORS, ET.ParseError)


class NotAnIgd(UpnpError):
    """The device has no WANIPConnection or WANPPPConnection service."""


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


def _number(value: Any, highest: int) -> int | None:
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
    external_port = _number(fields.get("NewExternalPort"), MAX_PORT)
    internal_port = _number(fields.get("NewInternalPort"), MAX_PORT)
    protocol = str(fields.get("NewProtocol") or "").strip().upper()
    # A protocol is a short word (TCP, UDP, UDPLITE); anything else names no row (and
    # would break the key's text form, key_id).
    if external_port is None or internal_port is None or _PROTOCOL.fullmatch(protocol) is None:
        return None
    lease = _number(fields.get(lease_field) or 0, MAX_LEASE_FIELD)
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


@dataclass(frozen=True, slots=True)
class _PageCount:
    rows: int  # rows the router sent on the page, readable or not
    unreadable: int


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


def _listing_text(body: str) -> str | None:
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
        external_port = _number(port.group(1) if port else None, MAX_PORT)
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


def _log_malformed(mapping: PortMapping) -> None:
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


class IgdClient:
    """The port-mapping, WAN status and DNS side of one router."""

    def __init__(self, device: UpnpDevice) -> None:
        services = {service.service_type: service for service in device.all_services}
        connection = next((services[t] for t in CONNECTION_SERVICE_TYPES if t in services), None)
        if connection is None:
            raise NotAnIgd(f"{device.device_type} offers no WAN connection service")
        self.device = device
        self.connection: UpnpService = connection
        self.common: UpnpService | None = services.get(COMMON_INTERFACE_SERVICE_TYPE)
        self.lan_host_config: UpnpService | None = services.get(LAN_HOST_CONFIG_SERVICE_TYPE)

    # -- capabilities -------------------------------------------------------------------
    def _action(self, name: str, service: UpnpService | None = None) -> UpnpAction | None:
        service = service or self.connection
        return service.actions.get(name)

    @property
    def has_port_listing(self) -> bool:
        """IGD:2's GetListOfPortMappings: the whole table in one call per protocol."""
        return self._action("GetListOfPortMappings") is not None

    @property
    def has_range_delete(self) -> bool:
        return self._action("DeletePortMappingRange") is not None

    @property
    def has_dns_servers(self) -> bool:
        return (
            self.lan_host_config is not None
            and self._action("GetDNSServers", self.lan_host_config) is not None
        )

    async def _call(self, name: str, service: UpnpService | None = None, **args: Any) -> Any:
        action = self._action(name, service)
        if action is None:
            raise UpnpError(f"router has no {name} action")
        return await action.async_call(**args)

    # -- inventory ----------------------------------------------------------------------
    async def async_list_port_mappings(self) -> PortMappingTable:
        """The whole table, by the fastest means the router offers.

        Never blinded by one row: a listing that does not parse is read row by row, and
        rows nothing can be read from are counted (`PortMappingTable.unreadable`).
        """
        if self.has_port_listing:
            tcp, udp = await asyncio.gather(
                self._async_list_protocol("TCP"), self._async_list_protocol("UDP")
            )
            table = PortMappingTable((tcp + udp)[:MAX_PORT_MAPPINGS])
            table.unreadable = tcp.unreadable + udp.unreadable
            return table
        return await self._async_list_generic()

    async def _async_request(self, name: str, **args: Any) -> str:
        """One action's raw answer, for answers that do not parse.

        The steps of async-upnp-client's `UpnpAction.async_call`, through their public
        names, stopping before the answer is parsed: a fault with an HTTP error status is
        raised typed here; one sent with 200 is raised when the body is parsed.
        tests/router/test_library_boundary.py fails if the library's call changes.
        """
        action = self._action(name)
        if action is None:
            raise UpnpError(f"router has no {name} action")
        service = self.connection
        request = service.on_pre_call_action(action, args, action.create_request(**args))
        response = service.on_post_call_action(
            action, await service.requester.async_http_request(request)
        )
        if response.status_code != 200:
            try:
                action.parse_response(service.service_type, response)  # raises the fault
            except UpnpActionError:
                raise
            except UpnpError, ET.ParseError, AttributeError:
                pass
            raise UpnpResponseError(status=response.status_code)
        return response.body or ""

    async def _async_list_protocol(self, protocol: str) -> PortMappingTable:
        mappings = PortMappingTable()
        start = 0
        while start <= MAX_PORT and len(mappings) < MAX_PORT_MAPPINGS:
            try:
                body = await self._async_request(
                    "GetListOfPortMappings",
                    NewStartPort=start,
                    NewEndPort=MAX_PORT,
                    NewProtocol=protocol,
                    # NewManage=1 asks for every client's mappings, not only ours.
                    NewManage=True,
                    NewNumberOfPorts=LIST_PAGE_SIZE,
                )
                if len(body) > MAX_PORT_LISTING_BYTES:
                    raise UpnpError(f"port listing larger than {MAX_PORT_LISTING_BYTES} bytes")
                # A fault sent with HTTP 200 (not all routers send 500) is raised here.
                page, count = await self._async_parse_page(body)
            except UpnpActionError as err:
                if upnp_error_code(err) in (ERR_PORT_MAPPING_NOT_FOUND, ERR_NO_SUCH_ENTRY):
                    break
                raise
            page = [m for m in page if m.external_port >= start]
            mappings.extend(page)
            mappings.unreadable += count.unreadable
            if count.rows < LIST_PAGE_SIZE or not page:
                break
            start = max(m.external_port for m in page) + 1
        return mappings

    async def _async_parse_page(self, body: str) -> tuple[list[PortMapping], _PageCount]:
        """One page of GetListOfPortMappings: strictly, else row by row."""
        action = self._action("GetListOfPortMappings")
        assert action is not None
        try:
            result = action.parse_response(
                self.connection.service_type, HttpResponse(200, {}, body)
            )
            page = parse_port_listing(str(result.get("NewPortListing") or ""))
        except LISTING_ERRORS as err:
            listing = _listing_text(body)
            if listing is None:
                raise UnreadableListing(f"unreadable port listing: {err}") from err
            rows, ask, bad = split_port_listing(listing)
            _LOGGER.warning(
                "Port listing of %s does not parse (%s): %s rows read alone, %s asked for one "
                "by one, %s unreadable",
                self.device.friendly_name,
                err,
                len(rows),
                len(ask),
                bad,
            )
            present = {row.key for row in rows}
            for key in ask:
                if key in present:
                    continue
                try:
                    mapping = await self.async_get_port_mapping(*key)
                except UpnpError as fetch_err:
                    _LOGGER.debug("Row %s unreadable: %s", key, fetch_err)
                    bad += 1
                    continue
                # None: no such row; a description forged it (or it just went).
                if mapping is not None:
                    rows.append(mapping)
                    present.add(mapping.key)
            return rows, _PageCount(len(rows) + len(ask) + bad, bad)
        return page, _PageCount(len(page), 0)

    async def _async_list_generic(self) -> PortMappingTable:
        """GetGenericPortMappingEntry by index until the router says the table ended."""
        mappings = PortMappingTable()
        for index in range(MAX_PORT_MAPPINGS):
            try:
                result = await self._call("GetGenericPortMappingEntry", NewPortMappingIndex=index)
            except UpnpError as err:
                if upnp_error_code(err) in END_OF_TABLE_CODES:
                    break
                if not isinstance(err, UpnpContentError):
                    raise
                mapping = await self._async_recover_generic(index, err)
            except ROW_ERRORS as err:
                mapping = await self._async_recover_generic(index, err)
            else:
                mapping = mapping_from_fields(result)
            if mapping is None:
                mappings.unreadable += 1
                if mappings.unreadable >= MAX_UNREADABLE_ROWS:
                    _LOGGER.warning(
                        "%s unreadable port-mapping rows; listing stops", mappings.unreadable
                    )
                    break
                continue
            mappings.append(mapping)
        else:
            _LOGGER.warning("Port-mapping table capped at %s entries", MAX_PORT_MAPPINGS)
        return mappings

    async def _async_recover_generic(self, index: int, err: Exception) -> PortMapping | None:
        """Row `index` again, raw, read tolerantly (recover_entry); None if nothing is."""
        _LOGGER.warning(
            "Port-mapping row %s does not parse (%s); reading it tolerantly", index, err
        )
        try:
            body = await self._async_request(
                "GetGenericPortMappingEntry", NewPortMappingIndex=index
            )
        except UpnpError:
            return None
        fields = recover_entry(body, "NewPortMappingDescription")
        mapping = None if fields is None else mapping_from_fields(fields, malformed=True)
        if mapping is not None:
            _log_malformed(mapping)
        return mapping

    async def async_get_port_mapping(
        self, remote_host: str, external_port: int, protocol: str
    ) -> PortMapping | None:
        """One row by its key; a hostile answer is read tolerantly and marked malformed."""
        args: dict[str, Any] = {
            "NewRemoteHost": remote_host,
            "NewExternalPort": external_port,
            "NewProtocol": protocol,
        }
        malformed = False
        try:
            result: Mapping[str, Any] = await self._call("GetSpecificPortMappingEntry", **args)
        except UpnpActionError as err:
            if upnp_error_code(err) == ERR_NO_SUCH_ENTRY:
                return None
            raise
        except ROW_ERRORS as err:
            _LOGGER.warning("Port mapping %s/%s does not parse (%s)", external_port, protocol, err)
            fields = recover_entry(
                await self._async_request("GetSpecificPortMappingEntry", **args),
                "NewPortMappingDescription",
            )
            if fields is None:
                raise UnreadableListing(
                    f"unreadable port mapping {external_port}/{protocol}"
                ) from err
            result, malformed = fields, True
        mapping = mapping_from_fields({**result, **args}, malformed=malformed)
        if mapping is None:
            raise UnreadableListing(f"unreadable port mapping {external_port}/{protocol}")
        if mapping.malformed:
            _log_malformed(mapping)
        return mapping

    # -- management ---------------------------------------------------------------------
    async def async_add_port_mapping(
        self,
        *,
        remote_host: str,
        external_port: int,
        protocol: str,
        internal_client: str,
        internal_port: int,
        description: str,
        lease_duration: int,
    ) -> None:
        """AddPortMapping with the lease in whole seconds and "" as wildcard remote host."""
        await self._call(
            "AddPortMapping",
            NewRemoteHost=remote_host,
            NewExternalPort=external_port,
            NewProtocol=protocol,
            NewInternalPort=internal_port,
            NewInternalClient=internal_client,
            NewEnabled=True,
            NewPortMappingDescription=description,
            NewLeaseDuration=lease_duration,
        )

    async def async_remove_port_mapping(
        self, remote_host: str, external_port: int, protocol: str
    ) -> RemovalResult:
        """The removal ladder: DeletePortMapping, then IGD:2's range delete, then the user.

        Routers in secure mode refuse DeletePortMapping for another host's mapping (606)
        but miniupnpd (like the IGD:2 spec's NewManage) honours DeletePortMappingRange.
        """
        try:
            await self._call(
                "DeletePortMapping",
                NewRemoteHost=remote_host,
                NewExternalPort=external_port,
                NewProtocol=protocol,
            )
        except UpnpError as err:
            code = upnp_error_code(err)
            if code not in RANGE_DELETE_CODES or not self.has_range_delete:
                _LOGGER.debug("DeletePortMapping %s/%s refused: %s", external_port, protocol, err)
                return RemovalResult.MANUAL
        else:
            return RemovalResult.DELETED
        try:
            await self._call(
                "DeletePortMappingRange",
                NewStartPort=external_port,
                NewEndPort=external_port,
                NewProtocol=protocol,
                NewManage=True,
            )
        except UpnpError as err:
            _LOGGER.debug("DeletePortMappingRange %s/%s refused: %s", external_port, protocol, err)
            return RemovalResult.MANUAL
        # A range delete says nothing about which mapping went: check it really is gone
        # (a remote-host-specific mapping on the same port may be the one still there).
        if await self.async_get_port_mapping(remote_host, external_port, protocol) is not None:
            return RemovalResult.MANUAL
        return RemovalResult.RANGE_DELETED

    # -- WAN status and DNS ---------------------------------------------------------------
    async def _optional(self, name: str, service: UpnpService | None) -> Mapping[str, Any]:
        if service is None or self._action(name, service) is None:
            return {}
        try:
            result: Mapping[str, Any] = await self._call(name, service)
        except UpnpActionError as err:
            _LOGGER.debug("%s failed: %s", name, err)
            return {}
        return result

    async def async_wan_status(self) -> WanStatus:
        status, address, received, sent, packets_in, packets_out = await asyncio.gather(
            self._optional("GetStatusInfo", self.connection),
            self._optional("GetExternalIPAddress", self.connection),
            self._optional("GetTotalBytesReceived", self.common),
            self._optional("GetTotalBytesSent", self.common),
            self._optional("GetTotalPacketsReceived", self.common),
            self._optional("GetTotalPacketsSent", self.common),
        )
        return WanStatus(
            connection_status=status.get("NewConnectionStatus"),
            uptime=status.get("NewUptime"),
            external_ip=address.get("NewExternalIPAddress") or None,
            bytes_received=received.get("NewTotalBytesReceived"),
            bytes_sent=sent.get("NewTotalBytesSent"),
            packets_received=packets_in.get("NewTotalPacketsReceived"),
            packets_sent=packets_out.get("NewTotalPacketsSent"),
        )

    async def async_dns_servers(self) -> str | None:
        """GetDNSServers only: UPnP Guard never calls a Set action on the router's DNS."""
        if not self.has_dns_servers:
            return None
        result = await self._call("GetDNSServers", self.lan_host_config)
        servers = [s.strip() for s in str(result.get("NewDNSServers") or "").split(",")]
        return ",".join(sorted(s for s in servers if s))
