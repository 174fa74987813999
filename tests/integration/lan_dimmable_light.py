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
import sys
from pathlib import Path

from async_upnp_client.client import UpnpStateVariable
from async_upnp_client.server import (
    UpnpServerDevice,
    UpnpServerService,
    callable_action,
    create_event_var,
    create_state_var,
)

# Started as `python lan_dimmable_light.py`: the repository on the path for tests.lan.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.lan.stock_upnp import (
    SWITCH_POWER,
    StockDevice,
    SwitchPowerService,
    device_info,
    log,
    serve,
    service_info,
)

IP, HTTP_PORT, UDN, BOOT_ID = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
DIMMING = "urn:schemas-upnp-org:service:Dimming:1"


class DimmingService(UpnpServerService):
    SERVICE_DEFINITION = service_info(DIMMING, "Dimming")
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


class DimmableLight(StockDevice):
    DEVICE_DEFINITION = device_info(
        "urn:schemas-upnp-org:device:DimmableLight:1",
        UDN,
        "Porch light",
        "Acme Lighting",
        "Acme Dimmer 2000",
        model_number="2.4",
        serial_number="ACME-0001",
    )
    SERVICES = [SwitchPowerService, DimmingService]  # noqa: RUF012


def read_commands(device: UpnpServerDevice) -> None:
    """Change as a wall switch or dimmer knob would, on the commands read from stdin."""
    loop = asyncio.get_running_loop()
    power = device.service(SWITCH_POWER)
    dimming = device.service(DIMMING)
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


asyncio.run(serve(DimmableLight, IP, HTTP_PORT, BOOT_ID, started=read_commands))
