"""What appliance entries know about UPnP device and service types."""

from __future__ import annotations

from typing import Final

# Standard DCPs (UPnP Forum) an appliance entry understands.
SWITCH_POWER: Final = "urn:schemas-upnp-org:service:SwitchPower:1"
DIMMING: Final = "urn:schemas-upnp-org:service:Dimming:1"
TEMPERATURE_SENSOR: Final = "urn:schemas-upnp-org:service:TemperatureSensor:1"
# Our agent's own services (the agent declares them in firmware/upnpguard/).
HUMIDITY_SENSOR: Final = "urn:upnp-guard-org:service:HumiditySensor:1"
BINARY_INPUT: Final = "urn:upnp-guard-org:service:BinaryInput:1"
AGENT_INFO: Final = "urn:upnp-guard-org:service:AgentInfo:1"
AGENT_DEVICE_TYPE: Final = "urn:upnp-guard-org:device:Agent:1"

SUPPORTED_SERVICE_TYPES: Final = frozenset(
    {SWITCH_POWER, DIMMING, TEMPERATURE_SENSOR, HUMIDITY_SENSOR, BINARY_INPUT, AGENT_INFO}
)
# UPnP data types (UDA 2.5) of numeric state variables: any evented one of a service not
# in SUPPORTED_SERVICE_TYPES becomes a generic sensor.
NUMERIC_DATA_TYPES: Final = frozenset(
    {"ui1", "ui2", "ui4", "i1", "i2", "i4", "int", "r4", "r8", "number", "fixed.14.4", "float"}
)
# A description chooses how many evented numeric variables it declares: at most this
# many become generic sensors per entry (the rest stay reachable via get_variables).
MAX_GENERIC_SENSORS: Final = 32

# Device types offered in the "pick a discovered device" list of the user step; they
# mirror the SSDP matchers in manifest.json.
DISCOVERABLE_SEARCH_TARGETS: Final = (
    AGENT_DEVICE_TYPE,
    "urn:schemas-upnp-org:device:BinaryLight:1",
    "urn:schemas-upnp-org:device:DimmableLight:1",
    SWITCH_POWER,
    DIMMING,
    TEMPERATURE_SENSOR,
)

# After a failed renewal or reconnect: first retry delay, doubling up to the maximum.
RECONNECT_BACKOFF_INITIAL_S: Final = 5.0
RECONNECT_BACKOFF_MAX_S: Final = 300.0
# Fallback when a device refuses SUBSCRIBE: how often its state is read by actions.
POLL_INTERVAL_S: Final = 30
# While polling, try SUBSCRIBE again every this many polls (a full table frees up).
SUBSCRIBE_RETRY_POLLS: Final = 10
# Bound on any one SUBSCRIBE/UNSUBSCRIBE/SOAP exchange made in the background.
REQUEST_TIMEOUT_S: Final = 10
# Liveness while subscribed: a device that dies without ssdp:byebye (power cut, crash)
# just stops sending events, which looks the same as nothing happening. Every interval
# one of our subscriptions is renewed as a probe (see ApplianceConnection._async_probe).
LIVENESS_PROBE_INTERVAL_S: Final = 30
# A probe gets this long: a device on the LAN answers a header-only renewal in
# milliseconds; the agent's own read deadline is a few seconds.
LIVENESS_PROBE_TIMEOUT_S: Final = 5
# Consecutive unanswered probes that make the device unavailable: one lost exchange on a
# busy Wi-Fi is no outage, two in a row (about a minute) is.
LIVENESS_PROBE_FAILURES: Final = 2
# AgentInfo SecurityMode of an agent that takes commands without a key.
SECURITY_MODE_OPEN: Final = "open"
# AgentInfo SecurityMode of an agent that obeys only requests signed with its key.
SECURITY_MODE_PAIRED: Final = "paired"
# Over-the-air updates of a paired agent (update.py, bundle.py): the options of its entry.
CONF_BUNDLE_DIR: Final = "bundle_dir"
CONF_ALLOW_DOWNGRADE: Final = "allow_downgrade"
# After CommitUpdate: how often the agent is asked whether it came back, and for how long
# at most (its own deadline to confirm a new version, limits.py UPDATE_CONFIRM_S = 120 s,
# plus two boots).
UPDATE_POLL_S: Final = 2
UPDATE_WAIT_S: Final = 180
