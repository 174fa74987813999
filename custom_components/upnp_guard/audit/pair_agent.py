"""Fix flow of UG-AGENT-001 (one of our agents in open mode): switch it to paired.

Home Assistant cannot switch the board itself (open mode has no key to authenticate such
a request with): the user re-provisions it with a key (`upnp-guard-provision`,
docs/firmware.md; the key is printed once) and enters that key here. The key is taken
only once the agent proves it is paired with exactly that key:

1. its open GetInfo says `paired` (else: still open);
2. a GetInfo signed with the key is accepted (appliance/pairing.py, as the config flow's
   pair step checks a key; a plain 401: wrong key);
3. an unsigned state-changing request is refused with 401 (or 429): an UNSUBSCRIBE of a
   SID that does not exist, which changes nothing even on an agent that obeys it.

When Home Assistant has a config entry for the agent (found by its UDN), the check runs
at the entry's own location, never at the address the audit last saw the UDN announced
from: any LAN host can announce the agent's UDN, and a copy of the agent paired with the
attacker's key must not get that key stored into the real agent's entry. The key then
goes into that entry, the entry reloads (which also ends a reauth flow waiting for the key), and the
audit runs again. The refusals we caused (a wrong key, step 3) are noted so that the
agent's AuthFailures count does not raise UG-AGENT-003 for them (runner.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.client_factory import UpnpFactory
from async_upnp_client.const import HttpRequest
from async_upnp_client.exceptions import UpnpError
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..agent_auth import UNAUTHORIZED, AgentKey
from ..appliance.const import AGENT_DEVICE_TYPE, SECURITY_MODE_PAIRED
from ..appliance.pairing import KeyCheck, async_agent_info, async_check_key
from ..const import CONF_DEVICE_TYPE, CONF_KEY, CONF_LOCATION, DOMAIN
from ..transport import device_requester

_ERRORS = (UpnpError, ClientError, OSError, TimeoutError)
# The agent's gate refuses an unauthenticated request with 401, or 429 once the peer spent
# its failure budget (firmware/upnpguard/guard.py): both are refusals.
_RATE_LIMITED = 429
_REFUSALS = (UNAUTHORIZED, _RATE_LIMITED)
# The SID of the unsigned UNSUBSCRIBE: no agent has it, so nothing is removed anywhere.
PROBE_SID = "uuid:upnp-guard-audit-pairing-check"


class PairCheck(StrEnum):
    """The answer of the pairing check (the form's error, when not PAIRED)."""

    PAIRED = "paired"
    STILL_OPEN = "agent_still_open"
    WRONG_KEY = "wrong_key"
    UNREACHABLE = "cannot_connect"


@dataclass(frozen=True, slots=True)
class PairOutcome:
    """The check's answer, the agent's boot id and the refusals the check caused."""

    result: PairCheck
    boot_id: int = 0
    own_refusals: int = 0


async def async_unsigned_refused(hass: HomeAssistant, device: UpnpDevice) -> bool | None:
    """Whether the agent refuses an unsigned UNSUBSCRIBE (None: no answer, no service)."""
    url = next((s.event_sub_url for s in device.all_services if s.event_sub_url), None)
    if url is None:
        return None
    try:
        response = await device_requester(hass).async_http_request(
            HttpRequest("UNSUBSCRIBE", url, {"SID": PROBE_SID}, None)
        )
    except _ERRORS:
        return None
    return response.status_code in _REFUSALS


async def _async_read_openly(
    hass: HomeAssistant, location: str, udn: str
) -> tuple[UpnpDevice, str, int] | None:
    """The agent's description (unsigned), SecurityMode and BootId; None: no answer, or
    another device there."""
    try:
        device = await UpnpFactory(device_requester(hass), non_strict=True).async_create_device(
            location
        )
    except _ERRORS:
        return None
    info = await async_agent_info(device) if device.udn.lower() == udn.lower() else None
    return None if info is None else (device, *info)


async def async_verify_paired(
    hass: HomeAssistant, location: str, udn: str, key: AgentKey
) -> PairOutcome:
    """Whether the agent at `location` (with `udn`) is paired with exactly `key`."""
    read = await _async_read_openly(hass, location, udn)
    if read is None:
        return PairOutcome(PairCheck.UNREACHABLE)
    device, mode, boot_id = read
    if mode != SECURITY_MODE_PAIRED:
        return PairOutcome(PairCheck.STILL_OPEN, boot_id)
    answer = await async_check_key(hass, location, key, boot_id)
    if answer is not KeyCheck.ACCEPTED:
        refused = answer is KeyCheck.REFUSED
        result = PairCheck.WRONG_KEY if refused else PairCheck.UNREACHABLE
        return PairOutcome(result, boot_id, own_refusals=int(refused))
    refused_unsigned = await async_unsigned_refused(hass, device)
    if refused_unsigned is None:
        return PairOutcome(PairCheck.UNREACHABLE, boot_id)
    if not refused_unsigned:  # it obeyed a request without a key: not paired, whatever it says
        return PairOutcome(PairCheck.STILL_OPEN, boot_id)
    return PairOutcome(PairCheck.PAIRED, boot_id, own_refusals=1)


def agent_entry(hass: HomeAssistant, udn: str) -> ConfigEntry | None:
    """Home Assistant's config entry of the agent with `udn` (an agent entry, never a
    router's or an appliance's), if there is one."""
    return next(
        (
            e
            for e in hass.config_entries.async_entries(DOMAIN)
            if (e.unique_id or "").lower() == udn.lower()
            and e.data.get(CONF_DEVICE_TYPE) == AGENT_DEVICE_TYPE
        ),
        None,
    )


def check_location(entry: ConfigEntry | None, seen_at: str | None) -> str | None:
    """Where to check the key: the entry's location when there is an entry (the key is
    stored there), else where the audit saw the agent."""
    if entry is not None:
        return str(entry.data.get(CONF_LOCATION) or "") or None
    return seen_at


async def async_store_key(hass: HomeAssistant, entry: ConfigEntry, text: str) -> None:
    """The key into the agent's config entry (as the config flow's pair and reauth steps
    store it: CONF_KEY, the text as entered, stripped), then reload it."""
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_KEY: text.strip()})
    await hass.config_entries.async_reload(entry.entry_id)
