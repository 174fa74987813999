"""Constants for UPnP Guard."""

from collections.abc import Mapping
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


# Config entry version: 1.2 stores the kind in every entry (async_migrate_entry adds it).
ENTRY_VERSION: Final = 1
ENTRY_MINOR_VERSION: Final = 2


def entry_kind(data: Mapping[str, object]) -> EntryKind:
    """Kind of an entry from its data: required (a missing one raises KeyError)."""
    return EntryKind(str(data[CONF_KIND]))


def is_router_entry(data: Mapping[str, object]) -> bool:
    """Whether an entry is a router's, for code that may meet entries not migrated yet
    (a disabled entry is migrated only when it is set up)."""
    return data.get(CONF_KIND) == EntryKind.ROUTER


def inferred_kind(data: Mapping[str, object]) -> EntryKind:
    """The kind of a 1.1 entry stored without one: an IGD device type is a router; any
    other entry was set up as an appliance, and stays one."""
    if data.get(CONF_DEVICE_TYPE) in IGD_DEVICE_TYPES:
        return EntryKind.ROUTER
    return EntryKind.APPLIANCE


# Strings from the LAN (mapping descriptions, friendly names, host names, DNS lists) are
# cut to this many characters wherever they are shown: repairs, events, logs (lan_text.py).
# miniupnpd keeps 64 bytes of a description; friendly names are "< 64 characters" in UDA
# 2.0 (2.3); four times that leaves room for multi-byte text and still bounds a hostile one.
MAX_LAN_TEXT: Final = 256
# A log argument (a LAN string, or an error whose text may quote a device's answer) is
# cut to this many characters: one hostile answer must not flood the log.
MAX_LOG_ARG: Final = 1024
