"""HTTP to devices (transport.py): LAN-only unless typed, no redirects, capped bodies.

Real aiohttp servers on loopback addresses play the devices (loopback is no LAN address,
so a test trusts a host the way a typed URL does); the requester under test is the one
Home Assistant uses, over a real aiohttp session.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_socket
from aiohttp import web
from async_upnp_client.const import HttpRequest
from async_upnp_client.exceptions import UpnpResponseError
from homeassistant.config_entries import SOURCE_SSDP, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from custom_components.upnp_guard.appliance.description import async_load_appliance
from custom_components.upnp_guard.const import (
    CONF_LOCATION,
    DOMAIN,
    MAX_CONTROL_RESPONSE_BYTES,
    MAX_DESCRIPTION_BYTES,
)
from custom_components.upnp_guard.transport import (
    DeviceRequester,
    LocationRefused,
    ResponseTooLarge,
    _scope_free_host,
    device_requester,
    is_lan_host,
)

from .conftest import dimmable_light, scpd_xml

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations", "ssdp_hub")

CHUNK = 64 * 1024
# What a hostile device would send if nobody stopped reading: far over every cap.
HUGE = 64 * 1024 * 1024
SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"


@dataclass
class Served:
    """A server's base URL, the paths it was asked for and the body bytes it wrote."""

    url: str
    requests: list[str] = field(default_factory=list)
    sent: int = 0


type Handler = Callable[[web.Request, Served], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(host: str, routes: dict[str, Handler]) -> AsyncGenerator[Served]:
    """Serve `routes` (path -> handler) on `host` until the block ends."""
    served = Served("")
    # Home Assistant's test plugin allows 127.0.0.1 only, from its own setup on.
    pytest_socket.socket_allow_hosts(["127.0.0.1", "127.0.0.2", "127.0.0.3"])

    async def dispatch(request: web.Request) -> web.StreamResponse:
        served.requests.append(request.path)
        return await routes[request.path](request, served)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    served.url = f"http://{host}:{port}"
    try:
        yield served
    finally:
        await runner.cleanup()


def stream(total: int, *, declare: bool, status: int = 200) -> Handler:
    """Send `total` bytes of XML-ish filler, with or without Content-Length."""

    async def handler(request: web.Request, served: Served) -> web.StreamResponse:
        response = web.StreamResponse(status=status)
        if declare:
            response.content_length = total
        await response.prepare(request)
        chunk = b"<a>" + b"x" * (CHUNK - 7) + b"</a>"
        try:
            while served.sent < total:
                part = chunk[: total - served.sent]
                await response.write(part)
                served.sent += len(part)
        except ConnectionError:
            pass  # the client stopped reading: what we want
        return response

    return handler


def text(body: str) -> Handler:
    async def handler(request: web.Request, served: Served) -> web.StreamResponse:
        served.sent += len(body)
        return web.Response(text=body, content_type="text/xml")

    return handler


def redirect(to: str, status: int = 307) -> Handler:
    async def handler(request: web.Request, served: Served) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": to})

    return handler


@pytest.fixture
async def requester() -> AsyncGenerator[DeviceRequester]:
    async with aiohttp.ClientSession() as session:
        yield DeviceRequester(session)


@pytest.mark.parametrize(
    "host",
    [
        "10.1.2.3",
        "172.16.0.9",
        "172.31.255.1",
        "192.168.1.20",
        "169.254.7.7",
        "fd00::5",
        "fe80::1%eth0",
    ],
)
def test_lan_hosts(host: str) -> None:
    assert is_lan_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "169.254.169.254",  # cloud instance metadata, although link-local
        "172.32.0.1",
        "100.64.0.1",
        "8.8.8.8",
        "224.0.0.251",
        "2001:db8::1",
        "router.example",
        "",
    ],
)
def test_hosts_off_the_lan(host: str) -> None:
    assert not is_lan_host(host)


async def test_location_off_the_lan_is_refused_before_connecting(
    requester: DeviceRequester,
) -> None:
    async with serve("127.0.0.1", {"/d.xml": text("<root/>")}) as device:
        for url in (
            f"{device.url}/d.xml",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:127.0.0.1]/",
            "ftp://192.168.1.2/d.xml",
        ):
            with pytest.raises(LocationRefused):
                await requester.async_http_request(HttpRequest("GET", url, {}, None))
        assert device.requests == []
        assert requester.counters.refused_locations == 4
        # The user typed it: now it is asked.
        requester.trust_host("127.0.0.1")
        response = await requester.async_http_request(
            HttpRequest("GET", f"{device.url}/d.xml", {}, None)
        )
    assert response.status_code == 200
    assert response.body == "<root/>"


async def test_redirect_is_not_followed(requester: DeviceRequester) -> None:
    """A 307 to loopback (or metadata) would pass every check made on the location."""
    async with (
        serve("127.0.0.3", {"/secret.xml": text("<secret/>")}) as inside,
        serve("127.0.0.2", {"/d.xml": redirect(f"{inside.url}/secret.xml")}) as device,
    ):
        requester.trust_host("127.0.0.2")
        requester.trust_host("127.0.0.3")  # even a host we would ask: no redirect at all
        response = await requester.async_http_request(
            HttpRequest("GET", f"{device.url}/d.xml", {}, None)
        )
    assert response.status_code == 307
    assert inside.requests == []
    assert requester.counters.redirects_not_followed == 1


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "streamed"])
@pytest.mark.parametrize(
    ("method", "cap"), [("GET", MAX_DESCRIPTION_BYTES), ("POST", MAX_CONTROL_RESPONSE_BYTES)]
)
async def test_body_over_the_cap_is_not_read(
    requester: DeviceRequester, method: str, cap: int, declare: bool
) -> None:
    async with serve("127.0.0.2", {"/big": stream(HUGE, declare=declare)}) as device:
        requester.trust_host("127.0.0.2")
        with pytest.raises(ResponseTooLarge):
            await requester.async_http_request(HttpRequest(method, f"{device.url}/big", {}, ""))
    # Reading stopped at the cap (what the server wrote meanwhile sits in socket buffers).
    assert device.sent < HUGE // 2
    assert requester.counters.responses_too_large == 1


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "streamed"])
async def test_body_at_the_cap_is_read(requester: DeviceRequester, declare: bool) -> None:
    async with serve("127.0.0.2", {"/big": stream(MAX_DESCRIPTION_BYTES, declare=declare)}) as dev:
        requester.trust_host("127.0.0.2")
        response = await requester.async_http_request(
            HttpRequest("GET", f"{dev.url}/big", {}, None)
        )
    assert len(response.body or "") == MAX_DESCRIPTION_BYTES
    assert requester.counters.responses_too_large == 0


def light_description(base: str) -> str:
    return (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>1</minor></specVersion><device>"
        "<deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>"
        "<friendlyName>Porch</friendlyName><manufacturer>M</manufacturer>"
        "<modelName>L</modelName><UDN>uuid:porch</UDN><serviceList><service>"
        f"<serviceType>{SWITCH_POWER}</serviceType>"
        "<serviceId>urn:upnp-org:serviceId:SwitchPower</serviceId>"
        f"<SCPDURL>{base}/scpd.xml</SCPDURL><controlURL>/control</controlURL>"
        "<eventSubURL>/event</eventSubURL></service></serviceList></device></root>"
    )


async def test_huge_scpd_fails_the_flow_and_home_assistant_goes_on(
    hass: HomeAssistant,
) -> None:
    """A typed URL whose SCPD is 64 MiB: a form error, nothing held; a good device loads."""
    scpd = scpd_xml(dimmable_light().services[0])
    async with (
        serve(
            "127.0.0.2",
            {"/d.xml": text(light_description("")), "/scpd.xml": stream(HUGE, declare=False)},
        ) as hostile,
        serve(
            "127.0.0.3", {"/d.xml": text(light_description("")), "/scpd.xml": text(scpd)}
        ) as good,
    ):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_LOCATION: f"{hostile.url}/d.xml"}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "malformed_description"}
        assert hostile.sent < HUGE // 2
        device_requester(hass).trust_host("127.0.0.3")
        device = await async_load_appliance(hass, f"{good.url}/d.xml")
        assert device.find_service(SWITCH_POWER) is not None
    assert device_requester(hass).counters.responses_too_large == 1


async def test_discovered_location_redirecting_to_loopback_is_refused(
    hass: HomeAssistant,
) -> None:
    """The SSDP step: a location off the LAN is never asked; a redirect is not followed."""
    async with serve("127.0.0.1", {"/d.xml": text(light_description(""))}) as inside:
        info = SsdpServiceInfo(
            ssdp_usn="uuid:porch::upnp:rootdevice",
            ssdp_st="upnp:rootdevice",
            ssdp_location=f"{inside.url}/d.xml",
            ssdp_udn="uuid:porch",
            upnp={"deviceType": "urn:schemas-upnp-org:device:BinaryLight:1", "UDN": "uuid:porch"},
        )
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_SSDP}, data=info
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "location_refused"
        # Typed by the user, a device that redirects there is still not followed.
        async with serve("127.0.0.2", {"/d.xml": redirect(f"{inside.url}/d.xml")}) as device:
            flow = await hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_USER}
            )
            flow = await hass.config_entries.flow.async_configure(
                flow["flow_id"], {CONF_LOCATION: f"{device.url}/d.xml"}
            )
            assert flow["errors"] == {"base": "not_upnp"}
            with pytest.raises(UpnpResponseError):
                await async_load_appliance(hass, f"{device.url}/d.xml")
    assert inside.requests == []


def test_host_header_drops_the_ipv6_zone() -> None:
    assert _scope_free_host("http://[fe80::1%25eth0]:8080/d.xml") == {"Host": "[fe80::1]:8080"}
    assert _scope_free_host("http://[fe80::1%eth0]/d.xml") == {"Host": "[fe80::1]"}
    assert _scope_free_host("http://192.168.1.2/d.xml") == {}


# What builds an HTTP path to devices: anything but the one requester would bypass the
# LAN check, the caps and the no-redirect rule.
_OWN_TRANSPORT = re.compile(
    r"AiohttpSessionRequester|AiohttpRequester|async_get_clientsession|aiohttp_client"
    r"|ClientSession\(|DeviceRequester\("
)
_NEEDS_A_REQUESTER = re.compile(r"(?<!class )\b\w*(?:Factory|NotifyServer)\(\s*([^,)]*)")


# The one requester, or a paired agent's signing wrapper around it (paired.py,
# appliance/pairing.py: both are built on device_requester(hass), checked below).
_ONE_REQUESTER = (
    "device_requester(",
    "paired_requester(",
    "signing_requester(",
    "RoutingRequester(device_requester(",
)


def test_every_path_to_a_device_uses_the_one_requester() -> None:
    """Only transport.py makes the requester (one per Home Assistant, in hass.data);
    every factory and notify server anywhere else is handed `device_requester(hass)`."""
    integration = Path(__file__).resolve().parents[2] / "custom_components" / "upnp_guard"
    users = 0
    for path in sorted(integration.rglob("*.py")):
        if path.name == "transport.py":
            continue
        text = path.read_text()
        assert not _OWN_TRANSPORT.search(text), f"{path.name} builds its own HTTP transport"
        for first_argument in _NEEDS_A_REQUESTER.findall(text):
            users += 1
            assert first_argument.startswith(_ONE_REQUESTER), (path.name, first_argument)
    assert users >= 3  # the router's and the appliance's factories, the notify servers
    # The wrappers sign with a key and hand the request to the one requester.
    pairing = (integration / "appliance" / "pairing.py").read_text()
    assert "SigningRequester(device_requester(hass)" in pairing
    paired = (integration / "paired.py").read_text()
    assert "device_requester(hass) if agent is None else agent" in paired
    assert "SigningRequester(device_requester(hass)" not in paired


async def test_device_requester_is_one_per_home_assistant(hass: HomeAssistant) -> None:
    assert device_requester(hass) is device_requester(hass)
