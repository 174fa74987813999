"""The router's boundary with async-upnp-client, checked against the installed library.

The router reads GetListOfPortMappings' raw answer (a listing that does not parse is then
read row by row), so `IgdClient.async_raw_answer` takes the steps of the library's
`UpnpAction.async_call` one by one through their public names (create_request, the
service's on_pre_call_action/on_post_call_action hooks, its requester, parse_response).
These tests fail if a new library version changes what async_call sends or how it
reports a fault: the router's copy of the steps would then have to follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from async_upnp_client.client import UpnpAction, UpnpRequester
from async_upnp_client.client_factory import UpnpFactory
from async_upnp_client.const import HttpRequest, HttpResponse
from async_upnp_client.exceptions import UpnpActionError

from custom_components.upnp_guard.router.igd import IgdClient

BASE = "http://192.168.1.1:5000"
WANIP2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
DESCRIPTION = f"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
 <specVersion><major>1</major><minor>1</minor></specVersion>
 <device>
  <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>
  <friendlyName>Router</friendlyName><manufacturer>Test</manufacturer>
  <modelName>IGD</modelName><UDN>uuid:boundary-igd</UDN>
  <serviceList><service>
   <serviceType>{WANIP2}</serviceType>
   <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
   <SCPDURL>/WANIPCn.xml</SCPDURL><controlURL>/ctl/IPConn</controlURL>
   <eventSubURL>/evt/IPConn</eventSubURL>
  </service></serviceList>
 </device>
</root>"""
_IN = {
    "NewStartPort": "ExternalPort",
    "NewEndPort": "ExternalPort",
    "NewProtocol": "PortMappingProtocol",
    "NewManage": "A_ARG_TYPE_Manage",
    "NewNumberOfPorts": "PortMappingNumberOfEntries",
}
SCPD = f"""<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0">
 <specVersion><major>1</major><minor>0</minor></specVersion>
 <actionList><action><name>GetListOfPortMappings</name><argumentList>
  {
    "".join(
        f"<argument><name>{name}</name><direction>in</direction>"
        f"<relatedStateVariable>{var}</relatedStateVariable></argument>"
        for name, var in _IN.items()
    )
}
  <argument><name>NewPortListing</name><direction>out</direction>
   <relatedStateVariable>A_ARG_TYPE_PortListing</relatedStateVariable></argument>
 </argumentList></action></actionList>
 <serviceStateTable>
  <stateVariable sendEvents="no"><name>ExternalPort</name><dataType>ui2</dataType></stateVariable>
  <stateVariable sendEvents="no"><name>PortMappingProtocol</name><dataType>string</dataType>
  </stateVariable>
  <stateVariable sendEvents="no"><name>A_ARG_TYPE_Manage</name><dataType>boolean</dataType>
  </stateVariable>
  <stateVariable sendEvents="yes"><name>PortMappingNumberOfEntries</name>
   <dataType>ui2</dataType></stateVariable>
  <stateVariable sendEvents="no"><name>A_ARG_TYPE_PortListing</name><dataType>string</dataType>
  </stateVariable>
 </serviceStateTable>
</scpd>"""
ARGS: dict[str, Any] = {
    "NewStartPort": 0,
    "NewEndPort": 65535,
    "NewProtocol": "TCP",
    "NewManage": True,
    "NewNumberOfPorts": 1000,
}
SOAP = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
    ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>{}</s:Body>'
    "</s:Envelope>"
)
ANSWER = SOAP.format(
    f'<u:GetListOfPortMappingsResponse xmlns:u="{WANIP2}">'
    "<NewPortListing>&lt;p:PortMappingList/&gt;</NewPortListing>"
    "</u:GetListOfPortMappingsResponse>"
)
FAULT = SOAP.format(
    "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
    '<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>730</errorCode>'
    "<errorDescription>NoSuchEntryInArray</errorDescription></UPnPError></detail></s:Fault>"
)


@dataclass
class RecordingRouter(UpnpRequester):
    """Serves the description and SCPD; records each SOAP request, answers `soap`."""

    soap: tuple[int, str] = (200, ANSWER)
    requests: list[HttpRequest] = field(default_factory=list)

    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        if http_request.method == "GET":
            body = DESCRIPTION if http_request.url.endswith("rootDesc.xml") else SCPD
            return HttpResponse(200, {}, body)
        self.requests.append(http_request)
        return HttpResponse(self.soap[0], {}, self.soap[1])


async def _router(requester: RecordingRouter) -> tuple[IgdClient, UpnpAction]:
    device = await UpnpFactory(requester, non_strict=True).async_create_device(
        f"{BASE}/rootDesc.xml"
    )
    client = IgdClient(device)
    # A hook on the service (as Home Assistant's dlna_dmr sets them) must apply to both paths.
    client.connection.on_pre_call_action = lambda _action, _args, request: HttpRequest(
        request.method, request.url, {**request.headers, "X-Hook": "pre"}, request.body
    )
    return client, client.connection.action("GetListOfPortMappings")


async def test_the_raw_request_is_what_async_call_sends() -> None:
    requester = RecordingRouter()
    client, action = await _router(requester)
    parsed = await action.async_call(**ARGS)
    raw = await client.async_raw_answer("GetListOfPortMappings", **ARGS)
    library, ours = requester.requests
    assert ours == library
    assert ours.headers["X-Hook"] == "pre"
    assert parsed == {"NewPortListing": "<p:PortMappingList/>"}
    assert action.parse_response(WANIP2, HttpResponse(200, {}, raw)) == parsed


async def test_a_fault_is_raised_as_async_call_raises_it() -> None:
    client, action = await _router(RecordingRouter(soap=(500, FAULT)))
    with pytest.raises(UpnpActionError) as library:
        await action.async_call(**ARGS)
    with pytest.raises(UpnpActionError) as ours:
        await client.async_raw_answer("GetListOfPortMappings", **ARGS)
    assert ours.value.error_code == library.value.error_code == 730


@pytest.mark.parametrize("status", [500, 200])
async def test_an_end_of_listing_fault_is_an_empty_table_whatever_the_status(status: int) -> None:
    """730 (no mapping in the range) ends the listing, with HTTP 500 as UDA says or 200 as
    some routers send a fault (async_call raises it either way; so must the raw path)."""
    client, _action = await _router(RecordingRouter(soap=(status, FAULT)))
    table = await client.async_list_port_mappings()
    assert list(table) == []
    assert table.unreadable == 0
