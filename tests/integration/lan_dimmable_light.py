"""A stock third-party UPnP DimmableLight:1 (SwitchPower:1 + Dimming:1), not our agent.

Built only from async-upnp-client's server classes, so it speaks UPnP the way an
independent implementation does: SSDP alive/byebye, description, SOAP, GENA.

    python lan_dimmable_light.py <ip> <http_port> <udn> <boot_id>

Prints `ready` once it serves; prints `ACTION <name> <args>` for every action it runs.
Reads commands on stdin to change by itself, as a wall switch or a dimmer knob would:
`status 0|1`, `level 0..100`. SIGTERM sends ssdp:byebye and exits.
"""

import asyncio
import os
import signal
import sys
import xml.etree.ElementTree as ET

from async_upnp_client.client import UpnpRequester, UpnpStateVariable
from async_upnp_client.const import DeviceInfo, ServiceInfo
from async_upnp_client.server import (
    UpnpServer,
    UpnpServerDevice,
    UpnpServerService,
    callable_action,
    create_event_var,
    create_state_var,
)

IP, HTTP_PORT, UDN, BOOT_ID = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def log(line: str) -> None:
    print(line, flush=True)


class SwitchPowerService(UpnpServerService):
    SERVICE_DEFINITION = ServiceInfo(
        service_id="urn:upnp-org:serviceId:SwitchPower",
        service_type="urn:schemas-upnp-org:service:SwitchPower:1",
        control_url="/upnp/control/SwitchPower",
        event_sub_url="/upnp/event/SwitchPower",
        scpd_url="/SwitchPower.xml",
        xml=ET.Element("server_service"),
    )
    STATE_VARIABLE_DEFINITIONS = {  # noqa: RUF012
        "Target": create_state_var("boolean", default="0"),
        "Status": create_event_var("boolean", default="0"),
    }

    @callable_action(name="SetTarget", in_args={"newTargetValue": "Target"}, out_args={})
    async def set_target(self, newTargetValue: bool) -> dict[str, UpnpStateVariable]:
        log(f"ACTION SetTarget {newTargetValue}")
        self.state_variable("Target").value = newTargetValue
        self.state_variable("Status").value = newTargetValue
        return {}

    @callable_action(name="GetTarget", in_args={}, out_args={"RetTargetValue": "Target"})
    async def get_target(self) -> dict[str, UpnpStateVariable]:
        return {"RetTargetValue": self.state_variable("Target")}

    @callable_action(name="GetStatus", in_args={}, out_args={"ResultStatus": "Status"})
    async def get_status(self) -> dict[str, UpnpStateVariable]:
        return {"ResultStatus": self.state_variable("Status")}


class DimmingService(UpnpServerService):
    SERVICE_DEFINITION = ServiceInfo(
        service_id="urn:upnp-org:serviceId:Dimming",
        service_type="urn:schemas-upnp-org:service:Dimming:1",
        control_url="/upnp/control/Dimming",
        event_sub_url="/upnp/event/Dimming",
        scpd_url="/Dimming.xml",
        xml=ET.Element("server_service"),
    )
    STATE_VARIABLE_DEFINITIONS = {  # noqa: RUF012
        "LoadLevelTarget": create_state_var(
            "ui1", allowed_range={"min": "0", "max": "100", "step": "1"}, default="0"
        ),
        "LoadLevelStatus": create_event_var(
            "ui1", allowed_range={"min": "0", "max": "100", "step": "1"}, default="0"
        ),
    }

    @callable_action(
        name="SetLoadLevelTarget",
        in_args={"newLoadlevelTarget": "LoadLevelTarget"},
        out_args={},
    )
    async def set_level(self, newLoadlevelTarget: int) -> dict[str, UpnpStateVariable]:
        log(f"ACTION SetLoadLevelTarget {newLoadlevelTarget}")
        self.state_variable("LoadLevelTarget").value = newLoadlevelTarget
        self.state_variable("LoadLevelStatus").value = newLoadlevelTarget
        return {}

    @callable_action(
        name="GetLoadLevelStatus", in_args={}, out_args={"retLoadlevelStatus": "LoadLevelStatus"}
    )
    async def get_level(self) -> dict[str, UpnpStateVariable]:
        return {"retLoadlevelStatus": self.state_variable("LoadLevelStatus")}


class DimmableLight(UpnpServerDevice):
    DEVICE_DEFINITION = DeviceInfo(
        device_type="urn:schemas-upnp-org:device:DimmableLight:1",
        friendly_name="Porch light",
        manufacturer="Acme Lighting",
        manufacturer_url=None,
        model_name="Acme Dimmer 2000",
        model_description=None,
        model_number="2.4",
        model_url=None,
        serial_number="ACME-0001",
        udn=UDN,
        upc=None,
        presentation_url=None,
        url="/device.xml",
        icons=[],
        xml=ET.Element("server_device"),
    )
    EMBEDDED_DEVICES = []  # noqa: RUF012
    SERVICES = [SwitchPowerService, DimmingService]  # noqa: RUF012

    def __init__(self, requester: UpnpRequester, base_uri: str, boot_id: int, config_id: int):
        super().__init__(requester, base_uri, boot_id, config_id)


async def main() -> None:
    server = UpnpServer(DimmableLight, (IP, 0), http_port=HTTP_PORT, boot_id=BOOT_ID)
    await server.async_start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    assert server._device is not None
    device = server._device
    power = device.service("urn:schemas-upnp-org:service:SwitchPower:1")
    dimming = device.service("urn:schemas-upnp-org:service:Dimming:1")

    pending = bytearray()

    def on_stdin() -> None:
        # Raw reads: a buffered readline() would swallow a second queued command.
        chunk = os.read(sys.stdin.fileno(), 4096)
        if not chunk:
            loop.remove_reader(sys.stdin.fileno())
            return
        pending.extend(chunk)
        while b"\n" in pending:
            raw, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            command, _, value = raw.decode().strip().partition(" ")
            if command == "status":
                power.state_variable("Status").value = value == "1"
            elif command == "level":
                dimming.state_variable("LoadLevelStatus").value = int(value)
            log(f"CHANGED {command} {value}")

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    log(f"ready http://{IP}:{HTTP_PORT}/device.xml")
    await stop.wait()
    await server.async_stop()
    log("stopped")


asyncio.run(main())
