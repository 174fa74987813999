"""Constants of the network audit (audit/): limits, intervals, check IDs."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

# The shipped data file of known-vulnerable UPnP stacks (format: docs/audit.md).
STACKS_FILE: Final = "vulnerable_stacks.json"
# A user's own additions, read from Home Assistant's config directory when present.
USER_STACKS_FILE: Final = "upnp_guard_vulnerable_stacks.json"
# Data file bounds: a file larger than this, or with more entries, is refused as a whole
# (the shipped one is a few KB; a user's list of a few hundred entries stays well below).
MAX_STACKS_FILE_BYTES: Final = 512 * 1024
MAX_STACK_ENTRIES: Final = 1000
# A version the file or a SERVER header spells: at most this many characters and parts
# ("2.1.20190408" has 3); longer ones are not versions (refused in the file, ignored in a
# header).
MAX_VERSION_TEXT: Final = 32
MAX_VERSION_PARTS: Final = 6
# Regular expressions in the file are matched against bounded text only (MAX_LAN_TEXT),
# and are at most this long.
MAX_PATTERN_LENGTH: Final = 256

# Inventory bounds: the LAN decides how many devices answer, we decide how many we keep.
# A home has tens of UPnP devices; beyond MAX_DEVICES, the least recently seen is dropped
# (and counted). Each device keeps at most MAX_TYPES device types and service types.
MAX_DEVICES: Final = 256
MAX_TYPES: Final = 32
# The active search: one ssdp:all M-SEARCH on the LAN interface, replies read this long
# (UDA 1.1: MX seconds, clamped 1..5), at most MAX_SEARCH_REPLIES of them kept.
SEARCH_MX: Final = 2
MAX_SEARCH_REPLIES: Final = 1024
# Descriptions read for the checks (SCPDs for the actions): at most this many devices per
# run, one at a time (the audit is background work, not a scan).
MAX_DESCRIBED_PER_RUN: Final = 64

# Passive checks: every PASSIVE_INTERVAL, and after a discovery (coalesced: at most one
# run per DISCOVERY_DEBOUNCE_S).
PASSIVE_INTERVAL_S: Final = 6 * 3600
DISCOVERY_DEBOUNCE_S: Final = 30.0
# Findings kept (and so repair issues and events): a hostile LAN cannot raise thousands.
MAX_FINDINGS: Final = 200


class Severity(StrEnum):
    """How bad a finding is (the score weighs them, docs/audit.md)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


# Points a finding takes off the score of 100 (the score never goes below 0).
SEVERITY_WEIGHT: Final = {
    Severity.CRITICAL: 40,
    Severity.HIGH: 20,
    Severity.MEDIUM: 10,
    Severity.LOW: 3,
    Severity.INFO: 0,
}


class Category(StrEnum):
    """What kind of risk a finding is (the score sensor counts per category)."""

    VULNERABLE_STACK = "vulnerable_stack"
    UNAUTHENTICATED_CONTROL = "unauthenticated_control"
    ROUTER = "router"
    AGENT = "agent"
    AMPLIFICATION = "amplification"
    EVENT_CALLBACK = "event_callback"


class CheckId(StrEnum):
    """Stable check IDs (docs/audit.md): repair issue ids and events carry them."""

    VULNERABLE_STACK = "UG-STACK-001"
    # UG-CTRL-001 is not used: AddPortMapping for other hosts is UG-ROUTER-003 (a probe);
    # every IGD offers AddPortMapping, so its presence alone is no finding.
    LAN_HOST_CONFIG_SET = "UG-CTRL-002"
    WAN_FORCE_TERMINATION = "UG-CTRL-003"
    AGENT_OPEN_MODE = "UG-AGENT-001"
    AGENT_OUTDATED = "UG-AGENT-002"
    AGENT_AUTH_FAILURES = "UG-AGENT-003"
    ROUTER_RISKY_MAPPING = "UG-ROUTER-001"
    ROUTER_DNS_CHANGED = "UG-ROUTER-002"
    ROUTER_SECURE_MODE_OFF = "UG-ROUTER-003"
    CALLSTRANGER = "UG-GENA-001"
    SSDP_AMPLIFICATION = "UG-SSDP-001"
    SSDP_OFF_SUBNET = "UG-SSDP-002"


# The newest agent firmware this integration knows (firmware/upnpguard FIRMWARE_VERSION of
# the same release; a test keeps them equal): an agent reporting less is UG-AGENT-002.
AGENT_FIRMWARE_LATEST: Final = "0.1.0"

# The audit's own entry (one per Home Assistant): its unique id, its title.
AUDIT_UNIQUE_ID: Final = "upnp_guard_network_audit"
# Event fired once per new finding (automations), with the finding's report view.
EVENT_AUDIT_FINDING: Final = "upnp_guard_audit_finding"
# The action that returns the report (response data).
SERVICE_AUDIT_REPORT: Final = "audit_report"
# Repair issues of findings: this prefix + the finding's key (repairs.py dispatches on it).
AUDIT_ISSUE_PREFIX: Final = "audit_"
# Repair issue of a user data file that did not validate (the shipped data still runs).
ISSUE_STACKS_FILE_INVALID: Final = "audit_stacks_file_invalid"
# Options: the active probes (off by default, docs/audit.md).
CONF_ACTIVE_PROBES: Final = "active_probes"

# Active probes (opt-in, CONF_ACTIVE_PROBES): each device at most once per
# PROBE_INTERVAL_S, only devices on the LAN (transport.is_lan_host), always undone.
PROBE_INTERVAL_S: Final = 24 * 3600
# Amplification: one unicast ssdp:all (UDA 1.1 section 1.3.3: no MX), replies read for
# this long, counted up to MAX_PROBE_REPLY_BYTES (beyond, the device is flagged anyway).
AMPLIFICATION_WAIT_S: Final = 2.0
MAX_PROBE_REPLY_BYTES: Final = 1024 * 1024
# What UDA needs: 3 replies for the root device, 2 per embedded device, 1 per service
# type, each a few hundred bytes (the headers UDA 1.1 lists, with a long LOCATION and
# SERVER: 512 B is generous). A device sending more than AMPLIFICATION_SLACK times the
# replies or the bytes UDA needs is flagged.
UDA_REPLY_BYTES: Final = 512
AMPLIFICATION_SLACK: Final = 2
# Off-subnet search (UG-SSDP-002): one unicast M-SEARCH for upnp:rootdevice (MX as
# below) from Home Assistant's address on *another* LAN network than the device's, replies
# from the device read for this long on that socket (counted like the amplification
# probe's, up to MAX_PROBE_REPLY_BYTES).
OFF_SUBNET_MX: Final = 1
OFF_SUBNET_WAIT_S: Final = 2.0
# Why a probe could not be tried on a device (the report's `not_testable`).
NOT_TESTABLE_NO_OTHER_NETWORK: Final = "no_address_outside_device_network"
NOT_TESTABLE_NO_SECOND_ADDRESS: Final = "no_second_lan_address"
NOT_TESTABLE_SEND_FAILED: Final = "search_not_sent"
# Secure-mode probe: a port mapping of a high TCP port to another LAN address, with a
# short lease (gone by itself if the removal failed), removed at once and verified gone.
PROBE_PORT_RANGE: Final = (61000, 61999)
PROBE_LEASE_S: Final = 60
PROBE_DESCRIPTION: Final = "UPnP Guard audit probe"
# CallStranger probe: SUBSCRIBE to at most this many of a device's services with a
# callback on Home Assistant's *other* LAN address (a listener of ours, open only during
# the probe), then UNSUBSCRIBE and check the SID is gone.
MAX_CALLBACK_PROBE_SERVICES: Final = 4
CALLBACK_PROBE_WAIT_S: Final = 1.0
# The probe listener reads at most this much of a NOTIFY's header block, for this long.
MAX_PROBE_NOTIFY_BYTES: Final = 8192
PROBE_NOTIFY_READ_S: Final = 2.0
