"""Read a router's whole port-mapping table, by the fastest means it offers.

IGD:2's GetListOfPortMappings pages through each protocol; IGD:1 is walked with
GetGenericPortMappingEntry by index. Never blinded by one row: a page that does not
parse is read row by row (listing.py), rows nothing can be read from are counted
(`PortMappingTable.unreadable`), and the walk stops at MAX_PORT_MAPPINGS rows or
MAX_UNREADABLE_ROWS rows of junk.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_upnp_client.const import HttpResponse
from async_upnp_client.exceptions import UpnpActionError, UpnpContentError, UpnpError

from ..lan_text import get_logger
from .const import (
    END_OF_TABLE_CODES,
    ERR_NO_SUCH_ENTRY,
    ERR_PORT_MAPPING_NOT_FOUND,
    LIST_PAGE_SIZE,
    MAX_PORT_LISTING_BYTES,
    MAX_PORT_MAPPINGS,
    MAX_UNREADABLE_ROWS,
)
from .listing import (
    LISTING_ERRORS,
    MAX_PORT,
    ROW_ERRORS,
    UnreadableListing,
    listing_text,
    log_malformed,
    mapping_from_fields,
    parse_port_listing,
    recover_entry,
    split_port_listing,
    upnp_error_code,
)
from .models import PortMapping, PortMappingTable

if TYPE_CHECKING:
    from .igd import IgdClient

_LOGGER = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _PageCount:
    rows: int  # rows the router sent on the page, readable or not
    unreadable: int


async def async_read_table(client: IgdClient) -> PortMappingTable:
    """The whole table; rows that cannot be read are counted, not raised."""
    if client.has_port_listing:
        tcp, udp = await asyncio.gather(
            _async_list_protocol(client, "TCP"), _async_list_protocol(client, "UDP")
        )
        table = PortMappingTable((tcp + udp)[:MAX_PORT_MAPPINGS])
        table.unreadable = tcp.unreadable + udp.unreadable
        return table
    return await _async_list_generic(client)


async def _async_list_protocol(client: IgdClient, protocol: str) -> PortMappingTable:
    mappings = PortMappingTable()
    start = 0
    while start <= MAX_PORT and len(mappings) < MAX_PORT_MAPPINGS:
        try:
            body = await client.async_raw_answer(
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
            page, count = await _async_parse_page(client, body)
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


async def _async_parse_page(client: IgdClient, body: str) -> tuple[list[PortMapping], _PageCount]:
    """One page of GetListOfPortMappings: strictly, else row by row."""
    action = client.action("GetListOfPortMappings")
    assert action is not None  # the caller's raw request needed it
    try:
        result = action.parse_response(client.connection.service_type, HttpResponse(200, {}, body))
        page = parse_port_listing(str(result.get("NewPortListing") or ""))
    except LISTING_ERRORS as err:
        listing = listing_text(body)
        if listing is None:
            raise UnreadableListing(f"unreadable port listing: {err}") from err
        rows, ask, bad = split_port_listing(listing)
        _LOGGER.warning(
            "Port listing of %s does not parse (%s): %s rows read alone, %s asked for one "
            "by one, %s unreadable",
            client.device.friendly_name,
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
                mapping = await client.async_get_port_mapping(*key)
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


async def _async_list_generic(client: IgdClient) -> PortMappingTable:
    """GetGenericPortMappingEntry by index until the router says the table ended."""
    mappings = PortMappingTable()
    for index in range(MAX_PORT_MAPPINGS):
        try:
            result = await client.async_call(
                "GetGenericPortMappingEntry", NewPortMappingIndex=index
            )
        except UpnpError as err:
            if upnp_error_code(err) in END_OF_TABLE_CODES:
                break
            if not isinstance(err, UpnpContentError):
                raise
            mapping = await _async_recover_generic(client, index, err)
        except ROW_ERRORS as err:
            mapping = await _async_recover_generic(client, index, err)
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


async def _async_recover_generic(
    client: IgdClient, index: int, err: Exception
) -> PortMapping | None:
    """Row `index` again, raw, read tolerantly (recover_entry); None if nothing is."""
    _LOGGER.warning("Port-mapping row %s does not parse (%s); reading it tolerantly", index, err)
    try:
        body = await client.async_raw_answer(
            "GetGenericPortMappingEntry", NewPortMappingIndex=index
        )
    except UpnpError:
        return None
    fields = recover_entry(body, "NewPortMappingDescription")
    mapping = None if fields is None else mapping_from_fields(fields, malformed=True)
    if mapping is not None:
        log_malformed(mapping)
    return mapping
