"""What the config flows read from an SSDP discovery: the same rules for every entry kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_IGNORE
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from .const import CONF_LOCATION, MAX_LOCATION_LENGTH
from .location import async_consider_move

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlow


def discovery_identity(info: SsdpServiceInfo) -> tuple[str, str, str] | None:
    """(root device UDN, location, display name), or None when the discovery lacks one.

    The root device's UDN: an agent's embedded devices announce their own UDNs, but an
    entry (and so its unique id) is the whole board or router.
    """
    udn = info.upnp.get("UDN") or info.ssdp_udn
    location = info.ssdp_location
    if not udn or not location:
        return None
    return udn, location, info.upnp.get("friendlyName") or udn


async def async_claim_discovery(flow: ConfigFlow, info: SsdpServiceInfo) -> tuple[str, str]:
    """Make the discovered device the flow's unique id and return (location, name).

    Aborts the flow when the discovery is incomplete or its location too long, or when
    the device already has an entry. An entry's location is never updated from here:
    a configured device announced elsewhere goes to location.py, which moves the entry
    only when the move checks out (else it raises a repair issue).
    """
    identity = discovery_identity(info)
    if identity is None:
        raise AbortFlow("incomplete_discovery")
    udn, location, name = identity
    if len(location) > MAX_LOCATION_LENGTH:
        raise AbortFlow("invalid_url")
    entry = await flow.async_set_unique_id(udn)
    if entry is not None and entry.source != SOURCE_IGNORE and CONF_LOCATION in entry.data:
        await async_consider_move(flow.hass, entry, info)
    flow._abort_if_unique_id_configured()
    flow.context["title_placeholders"] = {"name": name}
    return location, name
