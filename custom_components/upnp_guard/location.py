"""Whether an entry follows its device to a location seen over SSDP (one decision, here).

Any host on the LAN can send `NOTIFY ssdp:alive` with a configured device's UDN (it is
public: every announcement carries it) and its own LOCATION. Were the entry to follow,
a router entry would audit a fake IGD and point the user at the sender's web page, and
an appliance entry would control the sender and delete the real device's embedded
devices as stale. So an entry never moves to a new host silently (DESIGN, "What the
integration trusts from the LAN"): a new location is accepted only when

(a) the announcement came from the new location's host: the source address of the
    datagram, which Home Assistant's SSDP scanner passes on as the `_host` header;
(b) the description at the new location states the entry's UDN (fetched through the
    guarded requester: LAN hosts only, no redirects, capped body, timeout);
(c) for a router, the new host is the default gateway of an interface Home Assistant
    uses (the kernel's routing table, ROUTE_TABLE_PATH);
(d) the old location no longer answers, or answers with another UDN (a device that
    still answers where it was has not moved).

UDP source addresses can be forged on the LAN; (b) and (d) are TCP exchanges, which a
forged datagram cannot answer. When a check fails the entry keeps its location and a
fixable `location_move` repair issue says what was seen (old and new host, source
address, the check that failed; every LAN string escaped by lan_text.markdown); its fix
flow (repairs.py) lets the user accept the move or ignore it. The config flow's user
step never moves an entry; reconfigure is the deliberate way.

Bounded: one check per entry every MOVE_CHECK_INTERVAL_S. An announcement that comes
sooner is kept as the entry's pending one (the latest replaces it) and checked when the
interval has passed: a forged announcement cannot make the entry miss its device's real
move (Home Assistant's scanner passes a location on only when it changes). At most
MAX_MOVE_CHECKS entry check times, pending announcements and ignored moves are
remembered; announced locations over MAX_LOCATION_LENGTH are not considered.
"""

from __future__ import annotations

import struct
import time
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from ipaddress import IPv4Address
from typing import Any, Final
from xml.etree.ElementTree import ParseError

from aiohttp import ClientError
from async_upnp_client.const import HttpRequest
from async_upnp_client.exceptions import UpnpError
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as DET
from homeassistant.components import network
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from homeassistant.util.hass_dict import HassKey

from .const import (
    CONF_LOCATION,
    DOMAIN,
    MAX_LAN_TEXT,
    MAX_LOCATION_LENGTH,
    MAX_MOVE_CHECKS,
    MOVE_CHECK_INTERVAL_S,
    ROUTE_TABLE_PATH,
    is_router_entry,
)
from .lan_text import get_logger, markdown
from .notify_server import same_address
from .transport import device_requester, url_host

_LOGGER = get_logger(__name__)

# Where Home Assistant's SSDP scanner (async-upnp-client) puts the datagram's source.
SSDP_SOURCE_HEADER: Final = "_host"
# /proc/net/route flags (linux/route.h) and the most of the table we read.
_RTF_UP: Final = 0x1
_RTF_GATEWAY: Final = 0x2
_MAX_ROUTE_TABLE_BYTES: Final = 256 * 1024

_GUARD: HassKey[MoveGuard] = HassKey(f"{DOMAIN}_move_guard")


class MoveRefusal(StrEnum):
    """The check a new location failed (shown in the repair issue)."""

    SOURCE = "the announcement did not come from the new host"
    GATEWAY = "the new host is not Home Assistant's default gateway (a router must be)"
    UDN = "the new location does not describe this device (another UDN, or no answer)"
    OLD_ANSWERS = "the device still answers at its old location"


@dataclass(slots=True)
class MoveGuard:
    """What bounds the checks: when each entry was last checked, the announcement that
    waits for its turn, which moves are ignored."""

    checked_at: OrderedDict[str, float] = field(default_factory=OrderedDict)
    pending: OrderedDict[str, tuple[SsdpServiceInfo, CALLBACK_TYPE]] = field(
        default_factory=OrderedDict
    )
    ignored: OrderedDict[tuple[str, str], None] = field(default_factory=OrderedDict)

    def wait_s(self, entry_id: str, now: float) -> float:
        """0 when `entry_id` may be checked now (then remembered as checked), else how
        long until it may."""
        last = self.checked_at.get(entry_id)
        if last is not None and now - last < MOVE_CHECK_INTERVAL_S:
            return MOVE_CHECK_INTERVAL_S - (now - last)
        self.checked_at[entry_id] = now
        self.checked_at.move_to_end(entry_id)
        while len(self.checked_at) > MAX_MOVE_CHECKS:
            self.checked_at.popitem(last=False)
        return 0.0

    def defer(
        self, hass: HomeAssistant, entry_id: str, info: SsdpServiceInfo, delay: float
    ) -> None:
        """Check `info` for `entry_id` after `delay` (one pending per entry: the latest)."""
        if (waiting := self.pending.get(entry_id)) is not None:
            self.pending[entry_id] = (info, waiting[1])
            return
        cancel = async_call_later(hass, delay, partial(_async_check_pending, hass, entry_id))
        self.pending[entry_id] = (info, cancel)
        while len(self.pending) > MAX_MOVE_CHECKS:
            _entry_id, (_info, dropped) = self.pending.popitem(last=False)
            dropped()

    @callback
    def async_cancel_pending(self, _event: Event | None = None) -> None:
        """Drop every pending check (Home Assistant stops)."""
        for _info, cancel in self.pending.values():
            cancel()
        self.pending.clear()

    def ignore(self, entry_id: str, location: str) -> None:
        """The user ignored the move of `entry_id` to `location`: no new issue for it."""
        self.ignored[(entry_id, location)] = None
        while len(self.ignored) > MAX_MOVE_CHECKS:
            self.ignored.popitem(last=False)

    def is_ignored(self, entry_id: str, location: str) -> bool:
        """Whether the user ignored this move."""
        return (entry_id, location) in self.ignored


def move_guard(hass: HomeAssistant) -> MoveGuard:
    """The Home Assistant instance's guard (created on first use)."""
    if (guard := hass.data.get(_GUARD)) is None:
        guard = hass.data[_GUARD] = MoveGuard()
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, guard.async_cancel_pending)
    return guard


async def _async_check_pending(hass: HomeAssistant, entry_id: str, _now: Any) -> None:
    info, _cancel = move_guard(hass).pending.pop(entry_id)
    if (entry := hass.config_entries.async_get_entry(entry_id)) is not None:
        await async_consider_move(hass, entry, info)


def move_issue_id(entry_id: str) -> str:
    """The repair issue of a refused move of an entry."""
    return f"location_move_{entry_id}"


def announcement_source(info: SsdpServiceInfo) -> str:
    """The address the announcement came from ("" when the scanner did not say)."""
    return str(info.ssdp_headers.get(SSDP_SOURCE_HEADER) or "")


def is_from_device(
    info: SsdpServiceInfo, location: str, names: Mapping[str, frozenset[str]]
) -> bool:
    """Whether an announcement came from the host of `location` (the entry's device):
    its IP literal, or for a typed host name an address it resolved to (`names`, kept by
    the notify server when we subscribed)."""
    return same_address(url_host(location), announcement_source(info), names)


def description_udn(body: str) -> str | None:
    """The root device's UDN a description states, or None when it states none."""
    try:
        root = DET.fromstring(body)
    except ParseError, DefusedXmlException, ValueError:
        return None
    for device in root:
        if str(device.tag).rsplit("}", 1)[-1] != "device":
            continue
        for child in device:
            if str(child.tag).rsplit("}", 1)[-1] == "UDN":
                return (child.text or "").strip()[:MAX_LAN_TEXT] or None
    return None


async def async_fetch_udn(hass: HomeAssistant, location: str) -> str | None:
    """The UDN served at `location`; None when nothing (or no description) answers."""
    request = HttpRequest("GET", location, {}, None)
    try:
        response = await device_requester(hass).async_http_request(request)
    except (UpnpError, ClientError, OSError, TimeoutError) as err:
        _LOGGER.debug("No description at %s: %r", location, err)
        return None
    if response.status_code != 200 or response.body is None:
        return None
    return description_udn(response.body)


def default_gateways(route_table: str, interfaces: Collection[str]) -> set[str]:
    """IPv4 default gateways of `interfaces` in a /proc/net/route text."""
    gateways: set[str] = set()
    for line in route_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or fields[0] not in interfaces:
            continue
        try:
            destination, gateway, flags, mask = (int(fields[i], 16) for i in (1, 2, 3, 7))
        except ValueError:
            continue
        wanted = _RTF_UP | _RTF_GATEWAY
        if destination == 0 and mask == 0 and flags & wanted == wanted:
            gateways.add(str(IPv4Address(struct.pack("<I", gateway & 0xFFFFFFFF))))
    return gateways


def _read_route_table() -> str:
    try:
        with open(ROUTE_TABLE_PATH, encoding="ascii", errors="replace") as table:
            return table.read(_MAX_ROUTE_TABLE_BYTES)
    except OSError:
        return ""


async def async_default_gateways(hass: HomeAssistant) -> set[str]:
    """Default gateways of the interfaces Home Assistant uses (its enabled adapters)."""
    adapters = await network.async_get_adapters(hass)
    names = {adapter["name"] for adapter in adapters if adapter["enabled"]}
    return default_gateways(await hass.async_add_executor_job(_read_route_table), names)


async def async_refusal(
    hass: HomeAssistant, entry: ConfigEntry[Any], old: str, new: str, source: str
) -> MoveRefusal | None:
    """The first check (module docstring) the move from `old` to `new` fails, if any.

    Cheapest first: the source and the gateway cost no traffic.
    """
    new_host = url_host(new)
    # Names prove nothing here: an announced location must be an address.
    if not same_address(new_host, source, {}):
        return MoveRefusal.SOURCE
    if is_router_entry(entry.data) and not any(
        same_address(new_host, gateway, {}) for gateway in await async_default_gateways(hass)
    ):
        return MoveRefusal.GATEWAY
    if entry.unique_id is None or await async_fetch_udn(hass, new) != entry.unique_id:
        return MoveRefusal.UDN
    if await async_fetch_udn(hass, old) == entry.unique_id:
        return MoveRefusal.OLD_ANSWERS
    return None


async def async_consider_move(
    hass: HomeAssistant, entry: ConfigEntry[Any], info: SsdpServiceInfo
) -> bool:
    """An announcement of `entry`'s UDN: move the entry if it says so and every check
    passes (True), else keep it and raise the repair issue (see the module docstring)."""
    new = info.ssdp_location or ""
    old = str(entry.data.get(CONF_LOCATION) or "")
    guard = move_guard(hass)
    if (
        not old
        or not new
        or new == old
        or len(new) > MAX_LOCATION_LENGTH
        or guard.is_ignored(entry.entry_id, new)
    ):
        return False
    if (wait := guard.wait_s(entry.entry_id, time.monotonic())) > 0:
        guard.defer(hass, entry.entry_id, info, wait)
        return False
    source = announcement_source(info)
    refusal = await async_refusal(hass, entry, old, new, source)
    if refusal is None:
        _LOGGER.info("%s moved from %s to %s", entry.title, old, new)
        async_accept_move(hass, entry, new)
        return True
    _LOGGER.warning(
        "%s announced at %s (from %s) not followed: %s", entry.title, new, source, refusal.value
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        move_issue_id(entry.entry_id),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="location_move",
        translation_placeholders={
            "name": markdown(entry.title),
            "old_host": markdown(url_host(old)),
            "new_host": markdown(url_host(new)),
            "source": markdown(source),
            "reason": refusal.value,
        },
        data={"entry_id": entry.entry_id, "location": new},
    )
    return False


@callback
def async_accept_move(hass: HomeAssistant, entry: ConfigEntry[Any], location: str) -> None:
    """Store the new location and reconnect there.

    A loaded router entry's update listener reconnects when its location changes; any
    other entry (appliances, an entry not loaded) is reloaded here.
    """
    ir.async_delete_issue(hass, DOMAIN, move_issue_id(entry.entry_id))
    reloads_itself = bool(entry.update_listeners)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_LOCATION: location})
    if not reloads_itself:
        hass.config_entries.async_schedule_reload(entry.entry_id)
