"""Pieces of the third-party UPnP devices the LAN tests run, built from async-upnp-client's
server classes: the device scripts (tests/audit/lan_audit_device.py,
tests/integration/lan_dimmable_light.py) and the routers made inside tests import them.

- `service_info()` / `device_info()`: the description of a service and of a device;
- `SwitchPowerService`: SwitchPower:1 (Target, evented Status), which both scripts serve;
- `StockDevice`: the base of a root device with no embedded devices;
- `serve()`: serve a device until SIGTERM, printing `ready <description URL>` and `stopped`.

The scripts run as `python <script> ...` inside a namespace, so they put the repository on
`sys.path` before importing this module; it imports only the library and the standard one.
"""

# No `from __future__ import annotations`: async-upnp-client's server checks the action
# methods' annotations against real types.

import asyncio
import signal
import xml.etree.ElementTree as ET
from collections.abc import Callable

from async_upnp_client.client import UpnpStateVariable
from async_upnp_client.const import DeviceInfo, ServiceInfo
from async_upnp_client.server import (
    UpnpServer,
    UpnpServerDevice,
    UpnpServerService,
    callable_action,
    create_event_var,
    create_state_var,
)

DESCRIPTION_PATH = "/device.xml"
SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"


def log(line: str) -> None:
    """One line to the process's output (the tests wait for and read these)."""
    print(line, flush=True)


def service_info(service_type: str, short_id: str, vendor: str = "upnp-org") -> ServiceInfo:
    """The description of a service, its URLs named after `short_id` (`/upnp/control/<id>`,
    `/upnp/event/<id>`, `/<id>.xml`)."""
    return ServiceInfo(
        service_id=f"urn:{vendor}:serviceId:{short_id}",
        service_type=service_type,
        control_url=f"/upnp/control/{short_id}",
        event_sub_url=f"/upnp/event/{short_id}",
        scpd_url=f"/{short_id}.xml",
        xml=ET.Element("server_service"),
    )


def device_info(  # noqa: PLR0917
    device_type: str,
    udn: str,
    friendly_name: str,
    manufacturer: str,
    model_name: str,
    model_number: str | None = None,
    serial_number: str | None = None,
    presentation_url: str | None = None,
) -> DeviceInfo:
    """The description of a root device served at DESCRIPTION_PATH, with no icons."""
    return DeviceInfo(
        device_type=device_type,
        friendly_name=friendly_name,
        manufacturer=manufacturer,
        manufacturer_url=None,
        model_name=model_name,
        model_description=None,
        model_number=model_number,
        model_url=None,
        serial_number=serial_number,
        udn=udn,
        upc=None,
        presentation_url=presentation_url,
        url=DESCRIPTION_PATH,
        icons=[],
        xml=ET.Element("server_device"),
    )


class SwitchPowerService(UpnpServerService):
    """SwitchPower:1: SetTarget switches (Status follows and is evented), GetTarget,
    GetStatus. Prints `ACTION SetTarget <value>`."""

    SERVICE_DEFINITION = service_info(SWITCH_POWER, "SwitchPower")
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


class StockDevice(UpnpServerDevice):
    """A root device without embedded devices: subclasses set DEVICE_DEFINITION and
    SERVICES."""

    EMBEDDED_DEVICES = []  # noqa: RUF012


async def serve(
    device_class: type[UpnpServerDevice],
    ip: str,
    http_port: int,
    boot_id: int = 1,
    started: Callable[[UpnpServerDevice], None] | None = None,
) -> None:
    """Serve `device_class` (SSDP and HTTP) on `ip` until SIGTERM, then send ssdp:byebye.

    `started(device)` runs once the server is up, before `ready` is printed.
    """
    server = UpnpServer(device_class, (ip, 0), http_port=http_port, boot_id=boot_id)
    await server.async_start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if started is not None:
        assert server._device is not None
        started(server._device)
    log(f"ready http://{ip}:{http_port}{DESCRIPTION_PATH}")
    await stop.wait()
    await server.async_stop()
    log("stopped")
