"""The appliances the tests script: a dimmable light and our agent as the contract has it."""

from __future__ import annotations

from .upnp_device import DeviceSpec, ServiceSpec

SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"
DIMMING = "urn:schemas-upnp-org:service:Dimming:1"
TEMPERATURE = "urn:schemas-upnp-org:service:TemperatureSensor:1"
HUMIDITY = "urn:upnp-guard-org:service:HumiditySensor:1"
BINARY_INPUT = "urn:upnp-guard-org:service:BinaryInput:1"
AGENT_INFO = "urn:upnp-guard-org:service:AgentInfo:1"


def switch_power(data_type: str = "boolean", status: str = "0") -> ServiceSpec:
    """SwitchPower:1; `data_type` other than boolean is an SCPD as sloppy firmware types it."""
    return ServiceSpec(
        SWITCH_POWER,
        "urn:upnp-org:serviceId:SwitchPower",
        {"Target": (data_type, False, status), "Status": (data_type, True, status)},
        {
            "SetTarget": [("newTargetValue", "in", "Target")],
            "GetTarget": [("RetTargetValue", "out", "Target")],
            "GetStatus": [("ResultStatus", "out", "Status")],
        },
    )


def dimming(data_type: str = "ui1", level: str = "0") -> ServiceSpec:
    """Dimming:1; `data_type` other than ui1 is an SCPD as sloppy firmware types it."""
    return ServiceSpec(
        DIMMING,
        "urn:upnp-org:serviceId:Dimming",
        {"LoadLevelTarget": (data_type, False, level), "LoadLevelStatus": (data_type, True, level)},
        {
            "SetLoadLevelTarget": [("newLoadlevelTarget", "in", "LoadLevelTarget")],
            "GetLoadLevelTarget": [("retLoadlevelTarget", "out", "LoadLevelTarget")],
            "GetLoadLevelStatus": [("retLoadlevelStatus", "out", "LoadLevelStatus")],
        },
    )


def dimmable_light(udn: str = "uuid:light-0001") -> DeviceSpec:
    return DeviceSpec(
        "urn:schemas-upnp-org:device:DimmableLight:1",
        udn,
        "Hall light",
        [switch_power(), dimming()],
        presentation_url="/index.html",
    )


def agent(udn: str = "uuid:agent-0001") -> DeviceSpec:
    """Our agent as the contract describes it: info service plus one device per kind."""
    info = ServiceSpec(
        AGENT_INFO,
        "urn:upnp-guard-org:serviceId:AgentInfo",
        {
            "FirmwareVersion": ("string", False, ""),
            "BootId": ("ui4", True, "7"),
            "SecurityMode": ("string", False, ""),
            "Uptime": ("ui4", False, "0"),
            "A_ARG_TYPE_SealedKey": ("string", False, ""),
        },
        {
            "GetInfo": [
                ("FirmwareVersion", "out", "FirmwareVersion"),
                ("BootId", "out", "BootId"),
                ("SecurityMode", "out", "SecurityMode"),
                ("Uptime", "out", "Uptime"),
            ],
            "SetKey": [("NewSealedKey", "in", "A_ARG_TYPE_SealedKey")],
        },
    )
    sensor = DeviceSpec(
        "urn:upnp-guard-org:device:Sensor:1",
        f"{udn}-sensor",
        "Climate",
        [
            ServiceSpec(
                TEMPERATURE,
                "urn:upnp-org:serviceId:TemperatureSensor",
                {"CurrentTemperature": ("i4", True, "2150")},
                {"GetCurrentTemperature": [("CurrentTemp", "out", "CurrentTemperature")]},
            ),
            ServiceSpec(
                HUMIDITY,
                "urn:upnp-guard-org:serviceId:HumiditySensor",
                {"CurrentHumidity": ("ui2", True, "4550")},
                {"GetCurrentHumidity": [("CurrentHumidity", "out", "CurrentHumidity")]},
            ),
        ],
    )
    button = DeviceSpec(
        "urn:upnp-guard-org:device:Input:1",
        f"{udn}-button",
        "Doorbell",
        [
            ServiceSpec(
                BINARY_INPUT,
                "urn:upnp-guard-org:serviceId:BinaryInput",
                {"State": ("boolean", True, "0"), "PressCount": ("ui4", True, "3")},
                {"GetState": [("State", "out", "State")]},
            )
        ],
    )
    relay = DeviceSpec(
        "urn:schemas-upnp-org:device:BinaryLight:1", f"{udn}-relay1", "Relay 1", [switch_power()]
    )
    relay2 = DeviceSpec(
        "urn:schemas-upnp-org:device:BinaryLight:1", f"{udn}-relay2", "Relay 2", [switch_power()]
    )
    dimmer = DeviceSpec(
        "urn:schemas-upnp-org:device:DimmableLight:1",
        f"{udn}-dimmer",
        "Lamp",
        [switch_power(), dimming()],
    )
    return DeviceSpec(
        "urn:upnp-guard-org:device:Agent:1",
        udn,
        "Garage agent",
        [info],
        embedded=[relay, relay2, dimmer, sensor, button],
        manufacturer="UPnP Guard",
        model_name="UPnP Guard Agent",
        model_number="0.1.0",
    )
