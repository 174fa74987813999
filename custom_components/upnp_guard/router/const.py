"""Constants of router (IGD) entries: service types, UPnP error codes, limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

EVENT_PORT_MAPPING: Final = "upnp_guard_port_mapping"

# Services that carry port mappings, best first (IGD:2 adds GetListOfPortMappings).
CONNECTION_SERVICE_TYPES: Final = (
    "urn:schemas-upnp-org:service:WANIPConnection:2",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
)
COMMON_INTERFACE_SERVICE_TYPE: Final = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
LAN_HOST_CONFIG_SERVICE_TYPE: Final = "urn:schemas-upnp-org:service:LANHostConfigManagement:1"

# UPnP error codes of WANIPConnection (IGD:1 and IGD:2 specs, section 2.4).
ERR_INVALID_ARGS: Final = 402
ERR_NOT_AUTHORIZED: Final = 606
ERR_ARRAY_INDEX_INVALID: Final = 713
ERR_NO_SUCH_ENTRY: Final = 714
ERR_CONFLICT: Final = 718
ERR_ONLY_PERMANENT_LEASES: Final = 725
ERR_PORT_MAPPING_NOT_FOUND: Final = 730
# Some routers answer an index past the end with a bare HTTP 500 and no UPnP code.
HTTP_INTERNAL_ERROR: Final = 500
# Answers to GetGenericPortMappingEntry that mean "no entry at this index".
END_OF_TABLE_CODES: Final = frozenset(
    {ERR_ARRAY_INDEX_INVALID, ERR_NO_SUCH_ENTRY, ERR_INVALID_ARGS, HTTP_INTERNAL_ERROR}
)
# DeletePortMapping answers after which DeletePortMappingRange is worth trying.
RANGE_DELETE_CODES: Final = frozenset({ERR_NOT_AUTHORIZED, ERR_NO_SUCH_ENTRY})

# A router table larger than this is treated as hostile or broken: listing stops there.
MAX_PORT_MAPPINGS: Final = 4096
# Entries asked for per GetListOfPortMappings call (miniupnpd answers at most 1000).
LIST_PAGE_SIZE: Final = 1000
# NewPortListing is XML inside a string argument; refuse to parse beyond this.
MAX_PORT_LISTING_BYTES: Final = 2 * 1024 * 1024
# Rows of one listing that nothing could be read from (no port, no protocol, a router
# answering junk for every index): past this many the walk stops and the table is
# reported unreadable, instead of spending MAX_PORT_MAPPINGS requests on junk.
MAX_UNREADABLE_ROWS: Final = 64
# The protocols a port mapping can have (IGD:1/IGD:2 PortMappingProtocol).
MAPPING_PROTOCOLS: Final = frozenset({"TCP", "UDP"})
# IGD:2 (WANIPConnection:2 spec 2.3.16): leases are capped at one week; 0 means "a week".
IGD2_MAX_LEASE: Final = 604800
# Mappings created through UPnP Guard must expire on their own if Home Assistant is gone.
MIN_LEASE: Final = 10
MAX_LEASE: Final = IGD2_MAX_LEASE
# Renew an owned mapping when this fraction of its lease has passed.
RENEW_FRACTION: Final = 0.5

UPDATE_INTERVAL: Final = timedelta(seconds=30)
# A router (or the LAN hosts behind it) decides how many mappings break the policy: at
# most this many get a repair issue each; the rest share one summary issue (the service
# list_port_mappings lists them all).
MAX_POLICY_ISSUES: Final = 20
# Events (upnp_guard_port_mapping) one refresh may fire; past it, one "events_suppressed"
# event carries the count.
MAX_EVENTS_PER_REFRESH: Final = 20
# An owned mapping that vanished is re-added silently only when the router restarted
# since it was last seen (its uptime is shorter than the time since); the uptime is in
# whole seconds, so this much slack keeps a router that started just before from
# passing for one that restarted.
UPTIME_SLACK: Final = 2
DEFAULT_GRACE_PERIOD: Final = 300
# Mappings listed by the options flow's preview of enforce mode (the count is exact).
MAX_ENFORCE_PREVIEW: Final = 20
MAX_GRACE_PERIOD: Final = 86400
MAX_ALLOW_RULES: Final = 200
MAX_DESCRIPTION_LENGTH: Final = 256

# Ports whose exposure is a known attack path (SMB worms, RDP brute force, Mirai telnet).
DANGEROUS_PORTS: Final = frozenset(
    {
        21,  # FTP
        22,  # SSH
        23,  # Telnet (Mirai)
        135,  # MS RPC
        137,
        138,
        139,  # NetBIOS / SMB ("galleta silenciosa")
        445,  # SMB (EternalBlue)
        1433,  # MS SQL
        1900,  # SSDP (amplification)
        2323,  # alternate Telnet (Mirai)
        3306,  # MySQL
        3389,  # RDP
        5432,  # PostgreSQL
        5900,  # VNC
        5985,
        5986,  # WinRM
        7547,  # TR-069 (Mirai variant)
    }
)
# Substrings (lowercase) seen in descriptions of mappings injected by malware campaigns.
MALICIOUS_DESCRIPTIONS: Final = ("galleta", "silenciosa", "upnproxy", "mirai", "eternal")
PRIVILEGED_PORT_LIMIT: Final = 1024

# miniupnpd lists NAT-PMP and PCP mappings in its UPnP table with these descriptions.
NATPMP_DESCRIPTION_PREFIX: Final = "NAT-PMP"
PCP_DESCRIPTION_PREFIX: Final = "PCP MAP"

# Options of a router entry.
CONF_MODE: Final = "mode"
CONF_GRACE_PERIOD: Final = "grace_period"
CONF_ALLOW_RULES: Final = "allow_rules"
CONF_ADD_CLIENTS: Final = "add_clients"
MODE_MONITOR: Final = "monitor"
MODE_ENFORCE: Final = "enforce"

STORAGE_VERSION: Final = 1
