"""Stands in for Home Assistant's SSDP scanner (tests without a LAN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import SOURCE_SSDP
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from custom_components.upnp_guard.const import DOMAIN


@dataclass
class SsdpHub:
    """Stands in for HA's SSDP scanner: records callbacks so tests can announce."""

    callbacks: list[tuple[Callable[..., Any], dict[str, str]]] = field(default_factory=list)
    discoveries: dict[str, list[Any]] = field(default_factory=dict)

    async def register(
        self, hass: HomeAssistant, cb: Callable[..., Any], match: dict[str, str]
    ) -> Callable[[], None]:
        entry = (cb, match)
        self.callbacks.append(entry)
        return lambda: self.callbacks.remove(entry)

    async def by_st(self, hass: HomeAssistant, st: str) -> list[Any]:
        return self.discoveries.get(st, [])

    async def announce(self, info: Any, change: Any) -> None:
        for cb, match in list(self.callbacks):
            if match.get("_udn") in (None, info.ssdp_udn):
                await cb(info, change)


def ssdp_announcement(  # noqa: PLR0917 - the fields of one announcement
    udn: str, location: str, source: str, device_type: str, friendly_name: str, st: str
) -> SsdpServiceInfo:
    """What Home Assistant's SSDP scanner hands a config flow: an announcement from `source`
    (the packet's sender) for `udn` at `location`."""
    return SsdpServiceInfo(
        ssdp_usn=f"{udn}::{st}",
        ssdp_st=st,
        ssdp_location=location,
        ssdp_udn=udn,
        ssdp_headers={"_host": source},
        upnp={"deviceType": device_type, "UDN": udn, "friendlyName": friendly_name},
    )


async def announce_configured(hass: HomeAssistant, info: SsdpServiceInfo) -> None:
    """Feed an announcement of a configured device to the config flow, which must abort
    `already_configured` (what it does with the location is the test's business)."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
