"""The audit's active search: one ssdp:all M-SEARCH from each LAN IPv4 address of Home
Assistant (multicast, so it never leaves the link), replies read for SEARCH_MX seconds.

async-upnp-client's search listener decodes the replies; we keep at most
MAX_SEARCH_REPLIES of them and only from senders on the LAN (transport.is_lan_host).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from async_upnp_client.search import SsdpSearchListener
from async_upnp_client.utils import CaseInsensitiveDict
from homeassistant.components import network
from homeassistant.core import HomeAssistant

from ..lan_text import get_logger
from ..transport import is_lan_host
from .const import MAX_SEARCH_REPLIES, SEARCH_MX

_LOGGER = get_logger(__name__)


async def async_lan_sources(hass: HomeAssistant) -> list[str]:
    """Home Assistant's enabled IPv4 addresses on the LAN (the ones we search from)."""
    return [
        str(address)
        for address in await network.async_get_enabled_source_ips(hass)
        if isinstance(address, IPv4Address) and is_lan_host(str(address))
    ]


async def async_lan_interfaces(hass: HomeAssistant) -> list[IPv4Interface]:
    """Home Assistant's enabled IPv4 addresses on the LAN, with their networks."""
    return [
        IPv4Interface(f"{ipv4['address']}/{ipv4['network_prefix']}")
        for adapter in await network.async_get_adapters(hass)
        if adapter["enabled"]
        for ipv4 in adapter["ipv4"]
        if is_lan_host(ipv4["address"])
    ]


async def async_search_lan(hass: HomeAssistant, mx: int = SEARCH_MX) -> list[Mapping[str, Any]]:
    """Search once from every LAN source address; the (bounded) decoded replies."""
    replies: list[Mapping[str, Any]] = []

    def on_reply(headers: CaseInsensitiveDict) -> None:
        if len(replies) < MAX_SEARCH_REPLIES and is_lan_host(str(headers.get("_host", ""))):
            replies.append(headers)

    listeners = []
    for source in await async_lan_sources(hass):
        listener = SsdpSearchListener(callback=on_reply, source=(source, 0), timeout=mx)
        try:
            await listener.async_start()
        except OSError as err:
            _LOGGER.debug("No search from %s: %s", source, err)
            continue
        listeners.append(listener)
        listener.async_search()
    try:
        if listeners:
            await asyncio.sleep(mx + 0.5)
    finally:
        for listener in listeners:
            listener.async_stop()
    return replies
