"""DNS watch and IGD:1 quirks against a router built with async-upnp-client's server classes.

miniupnpd has no LANHostConfigManagement, so this IGD:1 router is made here: it hands out
DNS servers (GetDNSServers, and SetDNSServer which UPnP Guard must never call) and, like
many IGD:1 routers, accepts only permanent leases (AddPortMapping answers 725).
"""

# No `from __future__ import annotations`: async-upnp-client's server checks the action
# methods' annotations against real types.

import socket

import pytest
from async_upnp_client.exceptions import UpnpActionError
from async_upnp_client.server import (
    UpnpServer,
    UpnpServerService,
    callable_action,
    create_state_var,
)
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.audit.const import CheckId
from custom_components.upnp_guard.audit.router_findings import router_findings
from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_UDN,
    DOMAIN,
    EntryKind,
)
from tests.lan import Host, Lan
from tests.lan.stock_upnp import StockDevice, device_info, service_info

from .actions import async_add_port_mapping, async_list_port_mappings

pytestmark = pytest.mark.lan

IGD1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
calls: list[str] = []
dns_servers = {"value": ""}
# A port mapping's fields: GetGenericPortMappingEntry answers them, AddPortMapping takes them.
MAPPING_ARGUMENTS = {
    "NewRemoteHost": "RemoteHost",
    "NewExternalPort": "ExternalPort",
    "NewProtocol": "PortMappingProtocol",
    "NewInternalPort": "InternalPort",
    "NewInternalClient": "InternalClient",
    "NewEnabled": "PortMappingEnabled",
    "NewPortMappingDescription": "PortMappingDescription",
    "NewLeaseDuration": "PortMappingLeaseDuration",
}


class LanHostConfigService(UpnpServerService):
    SERVICE_DEFINITION = service_info(
        "urn:schemas-upnp-org:service:LANHostConfigManagement:1", "LANHostCfg1"
    )
    STATE_VARIABLE_DEFINITIONS = {"DNSServers": create_state_var("string")}  # noqa: RUF012

    @callable_action(name="GetDNSServers", in_args={}, out_args={"NewDNSServers": "DNSServers"})
    async def get_dns_servers(self) -> dict[str, str]:
        calls.append("GetDNSServers")
        return {"NewDNSServers": dns_servers["value"]}

    @callable_action(name="SetDNSServer", in_args={"NewDNSServers": "DNSServers"}, out_args={})
    async def set_dns_server(self, NewDNSServers: str) -> dict[str, str]:
        calls.append("SetDNSServer")
        dns_servers["value"] = NewDNSServers
        return {}


class WanIpConnectionService(UpnpServerService):
    SERVICE_DEFINITION = service_info(
        "urn:schemas-upnp-org:service:WANIPConnection:1", "WANIPConn1"
    )
    STATE_VARIABLE_DEFINITIONS = {  # noqa: RUF012
        "ConnectionStatus": create_state_var("string", default="Connected"),
        "LastConnectionError": create_state_var("string", default="ERROR_NONE"),
        "Uptime": create_state_var("ui4", default="42"),
        "ExternalIPAddress": create_state_var("string"),
        "RemoteHost": create_state_var("string"),
        "ExternalPort": create_state_var("ui2"),
        "PortMappingProtocol": create_state_var("string"),
        "InternalPort": create_state_var("ui2"),
        "InternalClient": create_state_var("string"),
        "PortMappingEnabled": create_state_var("boolean"),
        "PortMappingDescription": create_state_var("string"),
        "PortMappingLeaseDuration": create_state_var("ui4"),
        "PortMappingNumberOfEntries": create_state_var("ui2"),
    }
    external_ip = ""

    @callable_action(
        name="GetStatusInfo",
        in_args={},
        out_args={
            "NewConnectionStatus": "ConnectionStatus",
            "NewLastConnectionError": "LastConnectionError",
            "NewUptime": "Uptime",
        },
    )
    async def get_status_info(self) -> dict[str, object]:
        return {
            "NewConnectionStatus": "Connected",
            "NewLastConnectionError": "ERROR_NONE",
            "NewUptime": 42,
        }

    @callable_action(
        name="GetExternalIPAddress",
        in_args={},
        out_args={"NewExternalIPAddress": "ExternalIPAddress"},
    )
    async def get_external_ip_address(self) -> dict[str, str]:
        return {"NewExternalIPAddress": WanIpConnectionService.external_ip}

    @callable_action(
        name="GetGenericPortMappingEntry",
        in_args={"NewPortMappingIndex": "PortMappingNumberOfEntries"},
        out_args=MAPPING_ARGUMENTS,
    )
    async def get_generic_port_mapping_entry(self, NewPortMappingIndex: int) -> dict[str, str]:
        raise UpnpActionError(error_code=713, error_desc="SpecifiedArrayIndexInvalid")

    @callable_action(name="AddPortMapping", in_args=MAPPING_ARGUMENTS, out_args={})
    async def add_port_mapping(  # noqa: PLR0917
        self,
        NewRemoteHost: str,
        NewExternalPort: int,
        NewProtocol: str,
        NewInternalPort: int,
        NewInternalClient: str,
        NewEnabled: bool,
        NewPortMappingDescription: str,
        NewLeaseDuration: int,
    ) -> dict[str, str]:
        calls.append(f"AddPortMapping lease={NewLeaseDuration}")
        if NewLeaseDuration != 0:
            raise UpnpActionError(error_code=725, error_desc="OnlyPermanentLeasesSupported")
        return {}


class PermanentLeaseRouter(StockDevice):
    DEVICE_DEFINITION = device_info(
        IGD1,
        "uuid:5b1f0c55-1c3e-4a52-9c5e-0d6a1f2b3c4d",
        "DNS test router",
        "UPnP Guard tests",
        "IGD:1 with LANHostConfigManagement",
    )
    SERVICES = [WanIpConnectionService, LanHostConfigService]  # noqa: RUF012


async def test_dns_change_raises_repair_and_no_set_action_is_ever_called(
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    calls.clear()
    gateway_ip = str(lan.lan_net.network_address + 1)
    rogue = lan.add_host("rogue")
    dns_servers["value"] = f"{gateway_ip}"
    WanIpConnectionService.external_ip = str(lan.wan_net.network_address + 2)
    with socket.socket() as probe:
        probe.bind((ha_host.ip, 0))
        port = probe.getsockname()[1]
    server = UpnpServer(PermanentLeaseRouter, (ha_host.ip, 0), http_port=port)
    # HTTP only: SSDP is not what this test is about and its timers would outlive it.
    server._create_device()
    await server._async_start_http_server()
    try:
        assert await async_setup_component(hass, "repairs", {})
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="DNS test router",
            data={
                CONF_KIND: EntryKind.ROUTER.value,
                CONF_LOCATION: f"http://{ha_host.ip}:{port}/device.xml",
                CONF_UDN: PermanentLeaseRouter.DEVICE_DEFINITION.udn,
                CONF_DEVICE_TYPE: IGD1,
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data.coordinator
        issues = ir.async_get(hass)
        assert coordinator.dns_baseline == gateway_ip
        assert not [i for (d, i) in issues.issues if d == DOMAIN]
        assert router_findings(hass) == []  # the audit's view (UG-ROUTER-002): nothing yet
        # Only what the router offers: no traffic counters without WANCommonInterfaceConfig.
        assert not [
            e
            for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
            if e.translation_key == "bytes_received"
        ]
        assert hass.states.get("sensor.dns_test_router_port_mappings").state == "0"
        assert hass.states.get("binary_sensor.dns_test_router_wan_connected").state == "on"

        # Malware points the LAN at its own resolver (rogue host first).
        dns_servers["value"] = f"{rogue.ip},{gateway_ip}"
        await coordinator.async_refresh()
        issue_id = f"router_dns_changed_{entry.entry_id}"
        issue = issues.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.severity is ir.IssueSeverity.ERROR
        assert issue.translation_placeholders["baseline"] == gateway_ip
        assert rogue.ip in issue.translation_placeholders["servers"]
        # Still raised on the next poll, not duplicated.
        await coordinator.async_refresh()
        assert [i for (d, i) in issues.issues if d == DOMAIN] == [issue_id]
        # The network audit reports it as UG-ROUTER-002 (and leaves the repair to the
        # router entry).
        [finding] = router_findings(hass)
        assert finding.check_id is CheckId.ROUTER_DNS_CHANGED
        assert finding.details["baseline"] == gateway_ip
        assert rogue.ip in str(finding.details["current"])
        assert finding.details["router_entry_id"] == entry.entry_id

        # The user accepts the change through the repair flow: new baseline, issue gone.
        manager = repairs_flow_manager(hass)
        assert manager is not None
        result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
        assert result["type"] == "form"
        result = await manager.async_configure(result["flow_id"], {})
        assert result["type"] == "create_entry"
        assert issues.async_get_issue(DOMAIN, issue_id) is None
        await coordinator.async_refresh()
        assert issues.async_get_issue(DOMAIN, issue_id) is None
        assert coordinator.dns_baseline == ",".join(sorted([rogue.ip, gateway_ip]))
        assert router_findings(hass) == []  # accepted: no UG-ROUTER-002 either

        # IGD:1 answering 725: UPnP Guard refuses to fall back to a permanent mapping.
        with pytest.raises(HomeAssistantError) as refused:
            await async_add_port_mapping(
                hass, {"external_port": 8443, "protocol": "TCP", "lease_duration": 3600}
            )
        assert refused.value.translation_key == "router_only_permanent_leases"
        assert [c for c in calls if c.startswith("AddPortMapping")] == ["AddPortMapping lease=3600"]
        assert coordinator.owned == {}
        # ... and keeps working afterwards.
        listing = await async_list_port_mappings(hass)
        assert listing == {"port_mappings": []}

        # Read-only DNS watch: never a Set action on the router's DNS.
        assert "SetDNSServer" not in calls
        assert calls.count("GetDNSServers") >= 4
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await server._async_stop_http_server()
