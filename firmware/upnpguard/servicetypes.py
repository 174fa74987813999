# UPnP service types as data: state variables, actions, value conversion with the checks
# SOAP applies (UDA 1.1 2.5 data types) and the UPnP error codes. One ServiceType per
# DCP, shared by every device that offers the service; the SCPD XML is generated from it,
# and the device types that use them (DEVICE_TYPES) close the file.

from collections import namedtuple

from .compat import is_digits

# UPnP error codes (UDA 1.1 3.2.2 table 3-3) returned as SOAP faults.
ERR_INVALID_ACTION = 401
ERR_INVALID_ARGS = 402
ERR_ACTION_FAILED = 501
ERR_ARGUMENT_VALUE_INVALID = 600
ERR_ARGUMENT_OUT_OF_RANGE = 601
ERR_OPTIONAL_ACTION_NOT_IMPLEMENTED = 602
ERR_OUT_OF_MEMORY = 603
ERR_HUMAN_INTERVENTION_REQUIRED = 604
ERR_STRING_ARGUMENT_TOO_LONG = 605
ERR_NOT_AUTHORIZED = 606
UPNP_ERROR_DESCRIPTIONS = {
    401: "Invalid Action",
    402: "Invalid Args",
    501: "Action Failed",
    600: "Argument Value Invalid",
    601: "Argument Value Out of Range",
    602: "Optional Action Not Implemented",
    603: "Out of Memory",
    604: "Human Intervention Required",
    605: "String Argument Too Long",
    606: "Action not authorized",
    # 710..716, the over-the-air update faults: added by ota_receive.py when it is imported
    # (by the first update; until then none of them can occur).
}

_INT_RANGES = {
    "ui1": (0, 0xFF),
    "ui2": (0, 0xFFFF),
    "ui4": (0, 0xFFFFFFFF),
    "i1": (-0x80, 0x7F),
    "i2": (-0x8000, 0x7FFF),
    "i4": (-0x80000000, 0x7FFFFFFF),
}
_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


class UpnpError(Exception):
    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail or UPNP_ERROR_DESCRIPTIONS.get(code, "Error")


_StateVariable = namedtuple(
    "StateVariable",
    (
        "name",
        "data_type",
        "default",
        "evented",
        "minimum",
        "maximum",
        "step",
        "allowed",
        "moderated",
        "max_length",
    ),
)


def StateVariable(  # noqa: N802 - reads like the type it builds
    name,
    data_type,
    default,
    evented=False,
    minimum=None,
    maximum=None,
    step=None,
    allowed=None,
    moderated=False,
    max_length=None,
):
    """A state variable (a namedtuple: compact on MicroPython, ~20 in the DCP tables)."""
    return _StateVariable(
        name, data_type, default, evented, minimum, maximum, step, allowed, moderated, max_length
    )


def encode(var, value):
    if var.data_type == "boolean":
        return "1" if value else "0"
    return str(value)


def decode(var, text):
    """Text from a SOAP argument -> value, or UpnpError 600/601/605."""
    text = text.strip()
    kind = var.data_type
    if kind == "boolean":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise UpnpError(ERR_ARGUMENT_VALUE_INVALID, var.name + " is not a boolean")
    if kind in _INT_RANGES:
        digits = text[1:] if text[:1] in "+-" else text
        if not is_digits(digits) or len(digits) > 10:
            raise UpnpError(ERR_ARGUMENT_VALUE_INVALID, var.name + " is not an integer")
        value = int(text)
        low, high = _INT_RANGES[kind]
        if not low <= value <= high:
            raise UpnpError(ERR_ARGUMENT_VALUE_INVALID, var.name + " outside " + kind)
        if (var.minimum is not None and value < var.minimum) or (
            var.maximum is not None and value > var.maximum
        ):
            raise UpnpError(ERR_ARGUMENT_OUT_OF_RANGE, var.name + " out of range")
        return value
    # string
    limit = var.max_length
    if limit is not None and len(text) > limit:
        raise UpnpError(ERR_STRING_ARGUMENT_TOO_LONG, var.name + " too long")
    if var.allowed is not None and text not in var.allowed:
        raise UpnpError(ERR_ARGUMENT_VALUE_INVALID, var.name + " not allowed")
    return text


# Actions and arguments are namedtuples: on MicroPython a tuple costs a fraction of an
# instance with an attribute table, and the DCP tables hold ~40 of them.
Argument = namedtuple("Argument", ("name", "direction", "variable"))
# `read_only`: a query that changes nothing on the board. In paired mode only these may
# be called without an authenticator (stock control points still read the agent); every
# other action must pass auth.Verifier before its body is even parsed (core.py).
_Action = namedtuple("Action", ("name", "args_in", "args_out", "read_only"))


def Action(name, args_in=(), args_out=(), read_only=False):  # noqa: N802 - reads like a type
    return _Action(
        name,
        tuple(Argument(a, "in", v) for a, v in args_in),
        tuple(Argument(a, "out", v) for a, v in args_out),
        read_only,
    )


class ServiceType:
    def __init__(self, service_type, service_id, scpd_name, variables, actions, optional=()):
        self.service_type = service_type
        self.service_id = service_id
        self.scpd_name = scpd_name  # file name part of the (open) SCPD URL
        self.variables = variables
        self.actions = actions
        # Actions the DCP defines as optional and we do not implement: UPnP 602.
        self.optional = optional

    def variable(self, name):
        for var in self.variables:
            if var.name == name:
                return var
        return None

    def action(self, name):
        for act in self.actions:
            if act.name == name:
                return act
        return None

    def evented(self):
        return [v for v in self.variables if v.evented]


AGENT_INFO = ServiceType(
    "urn:upnp-guard-org:service:AgentInfo:1",
    "urn:upnp-guard-org:serviceId:AgentInfo",
    "AgentInfo",
    [
        StateVariable("FirmwareVersion", "string", "", max_length=20),
        StateVariable("BootId", "ui4", 0, evented=True),
        StateVariable("SecurityMode", "string", "paired", allowed=("open", "paired")),
        StateVariable("Uptime", "ui4", 0),
        # Paired mode: requests refused as unauthenticated since boot (the audit reads it).
        StateVariable("AuthFailures", "ui4", 0),
        StateVariable("A_ARG_TYPE_SealedKey", "string", "", max_length=64),
        # Over-the-air updates (ota.py, docs/protocol.md "Updates"): "" until an update
        # ended, then "ok <version>" or "rolled_back <version>".
        StateVariable("UpdateResult", "string", ""),
        StateVariable("A_ARG_TYPE_Digest", "string", "", max_length=64),
        StateVariable("A_ARG_TYPE_Force", "boolean", False),
        StateVariable("A_ARG_TYPE_Path", "string", "", max_length=64),
        StateVariable("A_ARG_TYPE_Offset", "ui4", 0),
        StateVariable("A_ARG_TYPE_Data", "string", "", max_length=2732),
    ],
    [
        Action(
            "GetInfo",
            args_out=(
                ("FirmwareVersion", "FirmwareVersion"),
                ("BootId", "BootId"),
                ("SecurityMode", "SecurityMode"),
                ("Uptime", "Uptime"),
                ("UpdateResult", "UpdateResult"),
                ("AuthFailures", "AuthFailures"),
            ),
            read_only=True,
        ),
        # Key rotation (paired mode): the new key sealed with the current one for this
        # very request (auth.Key.wrap with its boot id and counter), 64 hex digits.
        Action("SetKey", args_in=(("NewSealedKey", "A_ARG_TYPE_SealedKey"),)),
        # Updates: state-changing, so paired mode's gate verifies UG-AUTH first.
        Action(
            "BeginUpdate",
            args_in=(
                ("NewVersion", "FirmwareVersion"),
                ("NewDigest", "A_ARG_TYPE_Digest"),
                ("NewAuth", "A_ARG_TYPE_Digest"),
                ("NewForce", "A_ARG_TYPE_Force"),
            ),
        ),
        Action(
            "WriteUpdate",
            args_in=(
                ("NewPath", "A_ARG_TYPE_Path"),
                ("NewOffset", "A_ARG_TYPE_Offset"),
                ("NewData", "A_ARG_TYPE_Data"),
            ),
        ),
        Action("CommitUpdate"),
    ],
)

SWITCH_POWER = ServiceType(
    "urn:schemas-upnp-org:service:SwitchPower:1",
    "urn:upnp-org:serviceId:SwitchPower",
    "SwitchPower",
    [
        StateVariable("Target", "boolean", False),
        StateVariable("Status", "boolean", False, evented=True),
    ],
    [
        Action("SetTarget", args_in=(("newTargetValue", "Target"),)),
        Action("GetTarget", args_out=(("RetTargetValue", "Target"),), read_only=True),
        Action("GetStatus", args_out=(("ResultStatus", "Status"),), read_only=True),
    ],
)

DIMMING = ServiceType(
    "urn:schemas-upnp-org:service:Dimming:1",
    "urn:upnp-org:serviceId:Dimming",
    "Dimming",
    [
        StateVariable("LoadLevelTarget", "ui1", 0, minimum=0, maximum=100, step=1),
        StateVariable("LoadLevelStatus", "ui1", 0, evented=True, minimum=0, maximum=100, step=1),
    ],
    [
        Action("SetLoadLevelTarget", args_in=(("newLoadlevelTarget", "LoadLevelTarget"),)),
        Action(
            "GetLoadLevelTarget",
            args_out=(("retLoadlevelTarget", "LoadLevelTarget"),),
            read_only=True,
        ),
        Action(
            "GetLoadLevelStatus",
            args_out=(("retLoadlevelStatus", "LoadLevelStatus"),),
            read_only=True,
        ),
    ],
    optional=(
        "SetOnEffectLevel",
        "SetOnEffect",
        "GetOnEffectParameters",
        "StepUp",
        "StepDown",
        "StartRampUp",
        "StartRampDown",
        "StopRamp",
        "StartRampToLevel",
        "SetStepDelta",
        "GetStepDelta",
        "SetRampRate",
        "GetRampRate",
        "PauseRamp",
        "ResumeRamp",
        "GetIsRamping",
        "GetRampPaused",
        "GetRampTime",
    ),
)

TEMPERATURE_SENSOR = ServiceType(
    "urn:schemas-upnp-org:service:TemperatureSensor:1",
    "urn:upnp-org:serviceId:TemperatureSensor",
    "TemperatureSensor",
    [
        # Hundredths of a degree Celsius (TemperatureSensor:1 DCP), down to absolute zero.
        StateVariable(
            "CurrentTemperature",
            "i4",
            0,
            evented=True,
            minimum=-27315,
            maximum=100000,
            moderated=True,
        ),
    ],
    [
        Action(
            "GetCurrentTemperature",
            args_out=(("CurrentTemp", "CurrentTemperature"),),
            read_only=True,
        )
    ],
    optional=("GetApplication", "SetApplication", "GetName", "SetName"),
)

HUMIDITY_SENSOR = ServiceType(
    "urn:upnp-guard-org:service:HumiditySensor:1",
    "urn:upnp-guard-org:serviceId:HumiditySensor",
    "HumiditySensor",
    [
        StateVariable(
            "CurrentHumidity", "ui2", 0, evented=True, minimum=0, maximum=10000, moderated=True
        ),
    ],
    [
        Action(
            "GetCurrentHumidity", args_out=(("CurrentHumidity", "CurrentHumidity"),), read_only=True
        )
    ],
)

BINARY_INPUT = ServiceType(
    "urn:upnp-guard-org:service:BinaryInput:1",
    "urn:upnp-guard-org:serviceId:BinaryInput",
    "BinaryInput",
    [
        StateVariable("State", "boolean", False, evented=True),
        StateVariable("PressCount", "ui4", 0, evented=True),
    ],
    [Action("GetState", args_out=(("State", "State"),), read_only=True)],
)

ROOT_DEVICE_TYPE = "urn:upnp-guard-org:device:Agent:1"
DEVICE_TYPES = {
    "switch": ("urn:schemas-upnp-org:device:BinaryLight:1", (SWITCH_POWER,)),
    "dimmer": ("urn:schemas-upnp-org:device:DimmableLight:1", (SWITCH_POWER, DIMMING)),
    "sensor": ("urn:upnp-guard-org:device:Sensor:1", (TEMPERATURE_SENSOR, HUMIDITY_SENSOR)),
    "button": ("urn:upnp-guard-org:device:Input:1", (BINARY_INPUT,)),
    "contact": ("urn:upnp-guard-org:device:Input:1", (BINARY_INPUT,)),
}
