"""Router discovery whose location serves no UPnP description: the flow aborts, and the
same router discovered at its real location can still be added."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from homeassistant.config_entries import SOURCE_SSDP, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from custom_components.upnp_guard.const import CONF_LOCATION, DOMAIN
from tests.lan import Host, Router

from .conftest import router_udn

pytestmark = pytest.mark.lan

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


def _discovery(location: str, udn: str = "uuid:router-404") -> SsdpServiceInfo:
    return SsdpServiceInfo(
        ssdp_usn=f"{udn}::{IGD2}",
        ssdp_st=IGD2,
        ssdp_location=location,
        upnp={"deviceType": IGD2, "UDN": udn, "friendlyName": "Home router"},
    )


@asynccontextmanager
async def _serving(host: Host, text: str, content_type: str = "text/plain") -> AsyncIterator[str]:
    """An HTTP server on `host` answering `text` at /rootDesc.xml; yields that URL."""

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(text=text, content_type=content_type)

    app = web.Application()
    app.router.add_get("/rootDesc.xml", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host.ip, 0).start()
        yield f"http://{host.ip}:{runner.addresses[0][1]}/rootDesc.xml"
    finally:
        await runner.cleanup()


async def test_router_location_without_description_aborts_not_upnp(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    # miniupnpd answers 404 for any path but its own description's.
    missing = router.description_url.replace("rootDesc.xml", "missing.xml")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(missing)
    )
    assert result["step_id"] == "router_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_upnp"
    assert not hass.config_entries.async_entries(DOMAIN)

    # Recovery: the real location adds the router (announced with its real UDN).
    udn = router_udn(router)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(router.description_url, udn)
    )
    flow_id = result.get("flow_id")
    if result["type"] is FlowResultType.ABORT:
        # Home Assistant's own scanner (a dependency) found the router first.
        assert result["reason"] == "already_in_progress"
        flow_id = next(
            flow["flow_id"]
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"].get("unique_id") == udn
        )
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == udn
    await hass.async_block_till_done()


async def test_router_location_serving_no_xml_aborts_not_upnp(
    ha_host: Host, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """A host that answers 200 with something that is not XML (a web page) is no router."""
    async with _serving(ha_host, "<html>hi") as location:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(location, "uuid:web-page")
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_upnp"


# A description that calls itself IGD:2 but has no WAN connection service.
FAKE_IGD = f"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>1</minor></specVersion>
  <device>
    <deviceType>{IGD2}</deviceType>
    <friendlyName>Not a router</friendlyName>
    <manufacturer>Nobody</manufacturer>
    <modelName>Fake</modelName>
    <UDN>uuid:fake-igd</UDN>
  </device>
</root>
"""


async def test_igd_without_wan_connection_is_refused_in_every_step(
    ha_host: Host, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Its setup could never succeed: discovery aborts, the user step shows an error."""
    async with _serving(ha_host, FAKE_IGD, content_type="text/xml") as location:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_SSDP}, data=_discovery(location, "uuid:fake-igd")
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "not_igd"

        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_LOCATION: location}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "not_igd"}
    assert not hass.config_entries.async_entries(DOMAIN)
