"""UG-CTRL-002 and UG-CTRL-003 (audit/checks.py check_unauthenticated_actions) on
descriptions built by async-upnp-client from served XML, as an audit run reads them:
state-changing LANHostConfigManagement actions and ForceTermination any host may call,
what silences them (DeviceProtection, a stack known to refuse ForceTermination), and
hostile action names bounded."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from async_upnp_client.client import UpnpDevice, UpnpRequester
from async_upnp_client.client_factory import UpnpFactory
from async_upnp_client.const import HttpRequest, HttpResponse

from custom_components.upnp_guard.audit.checks import check_unauthenticated_actions
from custom_components.upnp_guard.audit.const import CheckId
from custom_components.upnp_guard.audit.inventory import InventoryDevice

BASE = "http://192.168.1.1:5000"
WANIP1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
WANPPP1 = "urn:schemas-upnp-org:service:WANPPPConnection:1"
LAN_HOST = "urn:schemas-upnp-org:service:LANHostConfigManagement:1"
PROTECTION = "urn:schemas-upnp-org:service:DeviceProtection:1"


def _description(service_types: list[str]) -> str:
    services = "".join(
        f"<service><serviceType>{kind}</serviceType><serviceId>urn:upnp-org:serviceId:s{i}"
        f"</serviceId><SCPDURL>/scpd/{i}.xml</SCPDURL><controlURL>/ctl/{i}</controlURL>"
        f"<eventSubURL>/evt/{i}</eventSubURL></service>"
        for i, kind in enumerate(service_types)
    )
    return (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>1</minor></specVersion><device>"
        "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>"
        "<friendlyName>Router</friendlyName><manufacturer>Test</manufacturer>"
        f"<modelName>IGD</modelName><UDN>uuid:ctrl-igd</UDN><serviceList>{services}"
        "</serviceList></device></root>"
    )


def _scpd(actions: list[str]) -> str:
    listed = "".join(
        f"<action><name>{escape(name)}</name><argumentList><argument><name>NewValue</name>"
        "<direction>in</direction><relatedStateVariable>Value</relatedStateVariable>"
        "</argument></argumentList></action>"
        for name in actions
    )
    return (
        '<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion>"
        f"<actionList>{listed}</actionList><serviceStateTable>"
        '<stateVariable sendEvents="no"><name>Value</name><dataType>string</dataType>'
        "</stateVariable></serviceStateTable></scpd>"
    )


@dataclass
class ServedDevice(UpnpRequester):
    """Serves one description and an SCPD per service (the actions it lists)."""

    services: list[tuple[str, list[str]]]

    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        if http_request.url.endswith("/rootDesc.xml"):
            return HttpResponse(200, {}, _description([kind for kind, _ in self.services]))
        index = int(http_request.url.rsplit("/", 1)[1].removesuffix(".xml"))
        return HttpResponse(200, {}, _scpd(self.services[index][1]))


async def _described(services: list[tuple[str, list[str]]]) -> UpnpDevice:
    return await UpnpFactory(ServedDevice(services), non_strict=True).async_create_device(
        f"{BASE}/rootDesc.xml"
    )


def _device(server: str = "Linux/5.4 UPnP/1.0 SomeRouterStack/2.1") -> InventoryDevice:
    return InventoryDevice(
        udn="uuid:ctrl-igd",
        address="192.168.1.1",
        location=f"{BASE}/rootDesc.xml",
        server=server,
        friendly_name="Router",
    )


async def test_force_termination_anyone_may_call_is_a_finding() -> None:
    for connection in (WANIP1, WANPPP1):
        described = await _described([(connection, ["GetStatusInfo", "ForceTermination"])])
        findings = check_unauthenticated_actions(_device(), described)
        assert [(f.check_id, f.details) for f in findings] == [
            (CheckId.WAN_FORCE_TERMINATION, {"actions": ["ForceTermination"]})
        ]
        assert findings[0].udn == "uuid:ctrl-igd"


async def test_no_force_termination_or_a_stack_that_refuses_it_is_no_finding() -> None:
    described = await _described([(WANIP1, ["GetStatusInfo", "AddPortMapping"])])
    assert check_unauthenticated_actions(_device(), described) == []
    # miniupnpd lists ForceTermination and answers it 606 (not authorized).
    listed = await _described([(WANIP1, ["ForceTermination"])])
    assert (
        check_unauthenticated_actions(_device("Debian/12 UPnP/1.1 MiniUPnPd/2.3.10"), listed) == []
    )
    # ForceTermination on a service that is not a WAN connection is somebody else's action.
    other = await _described([("urn:example-com:service:Custom:1", ["ForceTermination"])])
    assert check_unauthenticated_actions(_device(), other) == []


async def test_lan_host_config_set_and_delete_actions_are_a_finding() -> None:
    described = await _described(
        [(LAN_HOST, ["GetDNSServers", "SetDNSServer", "DeleteDNSServer", "SetDHCPRelay"])]
    )
    findings = check_unauthenticated_actions(_device(), described)
    assert len(findings) == 1
    assert findings[0].check_id is CheckId.LAN_HOST_CONFIG_SET
    assert findings[0].details == {"actions": ["DeleteDNSServer", "SetDHCPRelay", "SetDNSServer"]}
    assert findings[0].placeholders["actions"] == "DeleteDNSServer, SetDHCPRelay, SetDNSServer"
    # Only getters: nothing anyone could change.
    getters = await _described([(LAN_HOST, ["GetDNSServers", "GetDHCPRelay"])])
    assert check_unauthenticated_actions(_device(), getters) == []


async def test_device_protection_silences_both_checks() -> None:
    described = await _described(
        [
            (PROTECTION, ["GetSupportedProtocols"]),
            (LAN_HOST, ["SetDNSServer"]),
            (WANIP1, ["ForceTermination"]),
        ]
    )
    assert check_unauthenticated_actions(_device(), described) == []


async def test_hostile_action_names_are_bounded_in_what_users_see() -> None:
    hostile = "Set\tForce\u202eNoitanimret"  # sorts first (tab < letters)
    names = [f"Set{'A' * 200}{i:02d}" for i in range(40)] + [hostile]
    described = await _described([(LAN_HOST, names)])
    assert hostile in described.all_services[0].actions  # the library kept it as sent
    (finding,) = check_unauthenticated_actions(_device(), described)
    shown = finding.details["actions"]
    assert len(shown) == 16  # at most 16 names listed
    assert all(len(name) <= 64 for name in shown)
    assert shown[0] in {"Set ForceNoitanimret", "Set Force Noitanimret"}, shown
    text = finding.placeholders["actions"]
    assert len(text) <= 16 * 66
    assert not any(char in text for char in "\u202e\t")
