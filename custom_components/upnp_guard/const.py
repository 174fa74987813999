"""Constants for UPnP Guard."""

from enum import StrEnum
from typing import Final

DOMAIN: Final = "upnp_guard"

CONF_KIND: Final = "kind"
CONF_LOCATION: Final = "location"
CONF_UDN: Final = "udn"
CONF_DEVICE_TYPE: Final = "device_type"

# Seconds to wait for a device description before giving up.
DESCRIPTION_TIMEOUT: Final = 10


class EntryKind(StrEnum):
    """What a config entry stands for; each kind lives in its own subpackage."""

    APPLIANCE = "appliance"  # appliance/: lights, switches, sensors, our agents
    ROUTER = "router"  # router/: IGD port mappings, WAN status, DNS watch


IGD_DEVICE_TYPES: Final = (
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
)


def entry_kind(data: dict[str, object]) -> EntryKind:
    """Kind of an entry from its data (entries without one are appliances)."""
    return EntryKind(str(data.get(CONF_KIND, EntryKind.APPLIANCE)))
