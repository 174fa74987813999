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
import signal
import sys
import xml.etree.ElementTree as ET

import async_upnp_client.server as upnp_server
from async_upnp_client.client import UpnpRequester, UpnpStateVariable
from async_upnp_client.const import DeviceInfo, ServiceInfo
from async_upnp_client.server import (
    UpnpServer,
    UpnpServerDevice,
    UpnpServerService,
    callable_action,
    create_state_var,
)

KIND, IP, HTTP_PORT, UDN = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
SERVERS = {"libupnp": "Linux/2.6.21 UPnP/1.0 Portable SDK for UPnP devices/1.6.6"}


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
    }

    @callable_action(name="SetTarget", in_args={"newTargetValue": "Target"}, out_args={})
    async def set_target(self, newTargetValue: bool) -> dict[str, UpnpStateVariable]:
        log(f"ACTION SetTarget {newTargetValue}")
        self.state_variable("Target").value = newTargetValue
        return {}


class LanHostConfigService(UpnpServerService):
    SERVICE_DEFINITION = ServiceInfo(
        service_id="urn:upnp-org:serviceId:LANHostCfg1",
        service_type="urn:schemas-upnp-org:service:LANHostConfigManagement:1",
        control_url="/upnp/control/LANHostCfg1",
        event_sub_url="/upnp/event/LANHostCfg1",
        scpd_url="/LANHostCfg1.xml",
        xml=ET.Element("server_service"),
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
    SERVICE_DEFINITION = ServiceInfo(
        service_id="urn:upnp-guard-org:serviceId:AgentInfo",
        service_type="urn:upnp-guard-org:service:AgentInfo:1",
        control_url="/upnp/control/AgentInfo",
        event_sub_url="/upnp/event/AgentInfo",
        scpd_url="/AgentInfo.xml",
        xml=ET.Element("server_service"),
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


def device_info(device_type: str, name: str, model: str) -> DeviceInfo:
    return DeviceInfo(
        device_type=device_type,
        friendly_name=name,
        manufacturer="Acme",
        manufacturer_url=None,
        model_name=model,
        model_description=None,
        model_number="1.0",
        model_url=None,
        serial_number=None,
        udn=UDN,
        upc=None,
        presentation_url=f"http://{IP}/",
        url="/device.xml",
        icons=[],
        xml=ET.Element("server_device"),
    )


class Light(UpnpServerDevice):
    DEVICE_DEFINITION = device_info(
        "urn:schemas-upnp-org:device:BinaryLight:1", f"{KIND} light", "Acme Lamp"
    )
    EMBEDDED_DEVICES = []  # noqa: RUF012
    SERVICES = [SwitchPowerService]  # noqa: RUF012

    def __init__(self, requester: UpnpRequester, base_uri: str, boot_id: int, config_id: int):
        super().__init__(requester, base_uri, boot_id, config_id)


class LanDevice(UpnpServerDevice):
    DEVICE_DEFINITION = device_info(
        "urn:schemas-upnp-org:device:LANDevice:1", "LAN host config", "Acme Gateway"
    )
    EMBEDDED_DEVICES = []  # noqa: RUF012
    SERVICES = [LanHostConfigService]  # noqa: RUF012

    def __init__(self, requester: UpnpRequester, base_uri: str, boot_id: int, config_id: int):
        super().__init__(requester, base_uri, boot_id, config_id)


class FakeAgent(UpnpServerDevice):
    DEVICE_DEFINITION = device_info("urn:upnp-guard-org:device:Agent:1", "Fake agent", "Agent")
    EMBEDDED_DEVICES = []  # noqa: RUF012
    SERVICES = [AgentInfoService, SwitchPowerService]  # noqa: RUF012

    def __init__(self, requester: UpnpRequester, base_uri: str, boot_id: int, config_id: int):
        super().__init__(requester, base_uri, boot_id, config_id)


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
    server = UpnpServer(device_class, (IP, 0), http_port=HTTP_PORT, boot_id=1)
    await server.async_start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    log(f"ready http://{IP}:{HTTP_PORT}/device.xml")
    await stop.wait()
    await server.async_stop()
    log("stopped")


asyncio.run(main())
