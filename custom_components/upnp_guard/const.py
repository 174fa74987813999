"""Constants for UPnP Guard."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

DOMAIN: Final = "upnp_guard"

CONF_KIND: Final = "kind"
CONF_LOCATION: Final = "location"
CONF_UDN: Final = "udn"
CONF_DEVICE_TYPE: Final = "device_type"


class EntryKind(StrEnum):
    """What a config entry stands for; each kind lives in its own subpackage."""

    APPLIANCE = "appliance"  # appliance/: lights, switches, sensors, our agents
    ROUTER = "router"  # router/: IGD port mappings, WAN status, DNS watch
    AUDIT = "audit"  # audit/: the network audit, one per Home Assistant (no device)


IGD_DEVICE_TYPES: Final = (
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
)


# Config entry version: 1.2 stores the kind in every entry (async_migrate_entry adds it).
ENTRY_VERSION: Final = 1
ENTRY_MINOR_VERSION: Final = 2


def is_router_entry(data: Mapping[str, object]) -> bool:
    """Whether an entry is a router's, for code that may meet entries not migrated yet
    (a disabled entry is migrated only when it is set up)."""
    return data.get(CONF_KIND) == EntryKind.ROUTER


def is_audit_entry(data: Mapping[str, object]) -> bool:
    """Whether an entry is the network audit's."""
    return data.get(CONF_KIND) == EntryKind.AUDIT


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

# Every request to a device (transport.py). A LAN device answers in milliseconds; this
# bounds one that accepts the connection and then trickles or never answers.
DEVICE_REQUEST_TIMEOUT: Final = 10
# Attempts per request when the device closed the connection under us (an idle
# keep-alive connection may be closed at any time, RFC 9112 section 9.6).
DEVICE_REQUEST_ATTEMPTS: Final = 3
# Cap of a description or SCPD (any GET), checked on Content-Length and while reading.
# The largest we know are a few tens of KB (DLNA renderers' AVTransport SCPD, TR-064
# routers); 256 KiB leaves room and bounds a device that sends a gigabyte.
MAX_DESCRIPTION_BYTES: Final = 256 * 1024
# Cap of any other answer (SOAP, GENA): a full IGD:2 port listing page of 1000 entries,
# XML-escaped inside the SOAP envelope, stays well below it (router/const.py caps the
# unescaped listing at MAX_PORT_LISTING_BYTES).
MAX_CONTROL_RESPONSE_BYTES: Final = 4 * 1024 * 1024
# Where devices live: private (RFC 1918, ULA) and link-local ranges. A device URL on any
# other host (loopback, public, multicast...) is refused unless the user typed it.
LAN_NETWORKS: Final = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
)
# Link-local, but the cloud instance metadata service, never a UPnP device.
REFUSED_ADDRESSES: Final = ("169.254.169.254",)
# Entry data: the host of a description URL the user typed (trusted off the LAN too).
CONF_TYPED_HOST: Final = "typed_host"
# Entry data of a paired agent: its key as the user entered it (base64 of 32 bytes,
# docs/protocol.md "Authentication (paired mode)").
CONF_KEY: Final = "key"

# GENA subscriptions, both kinds (gena.py; appliance/subscriptions.py, router/events.py).
# The lifetime we ask for. Our agent clamps TIMEOUT to 300..1800 s (GENA_TIMEOUT_MIN_S and
# GENA_TIMEOUT_MAX_S in firmware/upnpguard/limits.py);
# 1800 s is also what UDA suggests as a sane upper bound.
SUBSCRIPTION_TIMEOUT_S: Final = 1800
# The one renewal rule of both entry kinds (gena.renewal_delay): renew at this fraction of
# the time left and at least RENEWAL_MARGIN_S before the end (one lost renewal still
# leaves time for another before the device drops us), never sooner than
# MIN_SUBSCRIPTION_RENEW_DELAY (a device granting a tiny timeout must not make us renew in
# a tight loop). A router that refused every SUBSCRIBE is asked again after
# RESUBSCRIBE_RETRY_DELAY (polling carries on meanwhile).
RENEWAL_MARGIN_S: Final = 60
SUBSCRIPTION_RENEW_FRACTION: Final = 0.5
MIN_SUBSCRIPTION_RENEW_DELAY: Final = 15.0
RESUBSCRIBE_RETRY_DELAY: Final = 300.0

# GENA NOTIFYs we accept (notify.py). Events of our agent, a light or a router
# are well under 4 KB; a media renderer's LastChange can reach tens of KB.
MAX_NOTIFY_BYTES: Final = 64 * 1024
# NOTIFYs that arrive before the SUBSCRIBE answer told us their SID (UDA 1.1 section 4.2.1
# allows the initial event right after the answer): kept only from a device we are
# subscribing to at that moment, at most this many, for at most this long.
NOTIFY_BACKLOG_MAX: Final = 8
NOTIFY_BACKLOG_MAX_AGE_S: Final = 15.0
# Connections to a notify server: a NOTIFY is one small request a device sends within a
# second, so a connection lives at most NOTIFY_CONNECTION_MAX_S (headers trickled one
# byte at a time, or a body never finished, are cut then); at most
# NOTIFY_CONNECTIONS_PER_PEER at once from one address (a device with several services
# notifies them together) and NOTIFY_CONNECTIONS_MAX in all; beyond, closed at once.
NOTIFY_CONNECTION_MAX_S: Final = 10.0
NOTIFY_CONNECTIONS_PER_PEER: Final = 8
NOTIFY_CONNECTIONS_MAX: Final = 64
# A device added by a typed host name: events must come from an address the name
# resolved to when we subscribed (at most this many kept; resolving waits this long).
MAX_RESOLVED_ADDRESSES: Final = 8
NAME_RESOLVE_TIMEOUT_S: Final = 5

# Location moves (location.py). An SSDP announcement of a configured UDN at another
# location is checked (source address, UDN at the new and the old location, gateway for
# a router) at most once per entry in this many seconds: a host repeating a forged alive
# cannot make us fetch descriptions in a loop.
MOVE_CHECK_INTERVAL_S: Final = 60
# Entries whose last check time, and (entry, location) pairs the user chose to ignore,
# are remembered: at most this many each (the oldest is forgotten first).
MAX_MOVE_CHECKS: Final = 64
# A description URL longer than this is no UPnP location (a typed one is refused, an
# announced one ignored): entry data never stores a longer one. UDA 1.1 section 1.1.2
# gives no bound; routers' and agents' locations are well under 100 characters.
MAX_LOCATION_LENGTH: Final = 512
# The kernel's IPv4 routing table: a router entry moves only to the default gateway of
# an interface Home Assistant uses.
ROUTE_TABLE_PATH: Final = "/proc/net/route"
# SSDP-triggered resubscribes of one appliance (a new BOOTID) happen at most once in this
# many seconds; a burst of announcements leaves one resubscribe scheduled for later.
RESUBSCRIBE_MIN_INTERVAL_S: Final = 30
