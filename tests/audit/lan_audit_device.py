"""Third-party UPnP devices for the audit's LAN tests, built from async-upnp-client's
server classes (SSDP, description, SOAP, GENA as an independent stack speaks them).

    python lan_audit_device.py <kind> <ip> <http_port> <udn>

Kinds:
- `libupnp`: a BinaryLight whose SERVER header says Portable SDK for UPnP devices/1.6.6
  (libupnp < 1.6.18: CVE-2012-5958..5965 and later ones);
- `lanhost`: a LANDevice with LANHostConfigManagement:1 and its Set/Delete actions (DNS
  servers, DHCP), which any host may call (UPnP has no authentication);
- `light`: a plain BinaryLight with a current stack: nothing to report;
- `chatty`: a BinaryLight that answers every M-SEARCH with 20 times the replies UDA asks
  for (the library's own replies, repeated): an SSDP amplifier.
- `agent_open`, `agent_liar`: a device that looks like our agent (its device type, an
  AgentInfo service whose GetInfo says `open`, or `paired`) but is this library's stack:
  it obeys anyone, signed or not. The liar says paired and is not.

Prints `ready <description URL>` once it serves and `ACTION <name> <args>` for every
action it runs. SIGTERM sends ssdp:byebye and exits.
"""

import asyncio
import sys
from pathlib import Path

import async_upnp_client.server as upnp_server
from async_upnp_client.client import UpnpStateVariable
from async_upnp_client.const import DeviceInfo
from async_upnp_client.server import UpnpServerService, callable_action, create_state_var

# Started as `python lan_audit_device.py`: the repository on the path for tests.lan.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.lan.stock_upnp import (
    StockDevice,
    SwitchPowerService,
    device_info,
    log,
    serve,
    service_info,
)

KIND, IP, HTTP_PORT, UDN = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
SERVERS = {"libupnp": "Linux/2.6.21 UPnP/1.0 Portable SDK for UPnP devices/1.6.6"}


class LanHostConfigService(UpnpServerService):
    SERVICE_DEFINITION = service_info(
        "urn:schemas-upnp-org:service:LANHostConfigManagement:1", "LANHostCfg1"
    )
    STATE_VARIABLE_DEFINITIONS = {  # noqa: RUF012
        "DNSServers": create_state_var("string", default="10.1.2.1"),
        "DHCPServerConfigurable": create_state_var("boolean", default="1"),
    }

    @callable_action(name="SetDNSServer", in_args={"NewDNSServers": "DNSServers"}, out_args={})
    async def set_dns(self, NewDNSServers: str) -> dict[str, UpnpStateVariable]:
        log(f"ACTION SetDNSServer {NewDNSServers}")
        self.state_variable("DNSServers").value = NewDNSServers
        return {}

    @callable_action(name="DeleteDNSServer", in_args={"NewDNSServers": "DNSServers"}, out_args={})
    async def delete_dns(self, NewDNSServers: str) -> dict[str, UpnpStateVariable]:
        log(f"ACTION DeleteDNSServer {NewDNSServers}")
        return {}

    @callable_action(name="GetDNSServers", in_args={}, out_args={"NewDNSServers": "DNSServers"})
    async def get_dns(self) -> dict[str, UpnpStateVariable]:
        return {"NewDNSServers": self.state_variable("DNSServers")}

    @callable_action(
        name="SetDHCPServerConfigurable",
        in_args={"NewDHCPServerConfigurable": "DHCPServerConfigurable"},
        out_args={},
    )
    async def set_dhcp(self, NewDHCPServerConfigurable: bool) -> dict[str, UpnpStateVariable]:
        log(f"ACTION SetDHCPServerConfigurable {NewDHCPServerConfigurable}")
        return {}


class AgentInfoService(UpnpServerService):
    SERVICE_DEFINITION = service_info(
        "urn:upnp-guard-org:service:AgentInfo:1", "AgentInfo", vendor="upnp-guard-org"
    )
    STATE_VARIABLE_DEFINITIONS = {  # noqa: RUF012
        "FirmwareVersion": create_state_var("string", default="0.1.0"),
        "BootId": create_state_var("ui4", default="1"),
        "SecurityMode": create_state_var(
            "string", default="paired" if KIND == "agent_liar" else "open"
        ),
        "AuthFailures": create_state_var("ui4", default="0"),
    }

    @callable_action(
        name="GetInfo",
        in_args={},
        out_args={
            "FirmwareVersion": "FirmwareVersion",
            "BootId": "BootId",
            "SecurityMode": "SecurityMode",
            "AuthFailures": "AuthFailures",
        },
    )
    async def get_info(self) -> dict[str, UpnpStateVariable]:
        log(f"ACTION GetInfo {self.state_variable('SecurityMode').value}")
        return {
            name: self.state_variable(name)
            for name in ("FirmwareVersion", "BootId", "SecurityMode", "AuthFailures")
        }


def acme_device(device_type: str, name: str, model: str) -> DeviceInfo:
    return device_info(
        device_type, UDN, name, "Acme", model, model_number="1.0", presentation_url=f"http://{IP}/"
    )


class Light(StockDevice):
    DEVICE_DEFINITION = acme_device(
        "urn:schemas-upnp-org:device:BinaryLight:1", f"{KIND} light", "Acme Lamp"
    )
    SERVICES = [SwitchPowerService]  # noqa: RUF012


class LanDevice(StockDevice):
    DEVICE_DEFINITION = acme_device(
        "urn:schemas-upnp-org:device:LANDevice:1", "LAN host config", "Acme Gateway"
    )
    SERVICES = [LanHostConfigService]  # noqa: RUF012


class FakeAgent(StockDevice):
    DEVICE_DEFINITION = acme_device("urn:upnp-guard-org:device:Agent:1", "Fake agent", "Agent")
    SERVICES = [AgentInfoService, SwitchPowerService]  # noqa: RUF012


async def main() -> None:
    if KIND == "chatty":
        uda_replies = upnp_server.SsdpSearchResponder._build_responses

        def amplified(self: upnp_server.SsdpSearchResponder, headers: object) -> list[bytes]:
            return uda_replies(self, headers) * 20  # type: ignore[arg-type]

        upnp_server.SsdpSearchResponder._build_responses = amplified  # type: ignore[method-assign]
    if KIND in SERVERS:
        upnp_server.HEADER_SERVER = SERVERS[KIND]
    device_class = {"lanhost": LanDevice, "agent_open": FakeAgent, "agent_liar": FakeAgent}.get(
        KIND, Light
    )
    await serve(device_class, IP, HTTP_PORT)


asyncio.run(main())
