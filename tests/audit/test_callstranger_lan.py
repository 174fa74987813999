"""The CallStranger probe on the simulated LAN: Home Assistant has a second LAN address;
a device that accepts a callback there is found, our agent and miniupnpd are not, and
every accepted subscription is gone afterwards."""

from __future__ import annotations

import asyncio
from unittest.mock import patch

import aiohttp
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.audit.const import CheckId
from custom_components.upnp_guard.audit.runner import AuditRunner
from custom_components.upnp_guard.audit.stacks import load_stack_file, shipped_stack_file
from tests.lan import Host, Lan, Router
from tests.lan.agent import start_agent

from .conftest import run_until_seen, start_device

pytestmark = pytest.mark.lan

LIGHT_UDN = "uuid:00000000-0000-4000-8000-0000000d0001"
EVENT_URL = "/upnp/event/SwitchPower"


async def test_callstranger_probe(
    ha_host: Host, lan: Lan, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    light = lan.add_host("light")
    start_device(light, "light", LIGHT_UDN)
    agent = start_agent(lan, "agent")
    # Home Assistant's second address on the LAN: the callback the probe listens on.
    # (.200: the harness hands out addresses from the bottom of the network.)
    spare_ip = str(lan.lan_net.network_address + 200)
    prefix = ha_host.network.prefixlen
    ha_host.run("ip", "addr", "add", f"{spare_ip}/{prefix}", "dev", "eth0")
    adapters = [
        {
            "auto": True,
            "default": True,
            "enabled": True,
            "index": 0,
            "ipv4": [
                {"address": ha_host.ip, "network_prefix": prefix},
                {"address": spare_ip, "network_prefix": prefix},
            ],
            "ipv6": [],
            "name": "eth0",
        }
    ]
    with patch("homeassistant.components.network.async_get_adapters", return_value=adapters):
        assert await async_setup_component(hass, "ssdp", {})
        database = await hass.async_add_executor_job(load_stack_file, shipped_stack_file())
        runner = AuditRunner(hass, database)
        runner.probes.enabled = True
        report = await run_until_seen(runner, {light.ip, agent.ip, router.ip})

    found = {(f.check_id, f.address) for f in report.findings if f.check_id is CheckId.CALLSTRANGER}
    assert found == {(CheckId.CALLSTRANGER, light.ip)}
    (finding,) = [f for f in report.findings if f.check_id is CheckId.CALLSTRANGER]
    assert finding.details["accepted_services"] == ["urn:schemas-upnp-org:service:SwitchPower:1"]
    assert finding.details["unsubscribed"] is True
    # Nothing left behind: the device itself no longer knows the SID.
    (sid,) = finding.details["sids"]
    url = f"http://{light.ip}:49152{EVENT_URL}"
    renew = {"TIMEOUT": "Second-300"}
    async with aiohttp.ClientSession() as session:
        async with session.request("SUBSCRIBE", url, headers={"SID": sid, **renew}) as response:
            # UDA says 412 for an unknown SID; async-upnp-client's server answers 404. Either
            # way not 200: the subscription is gone.
            assert response.status in (404, 412)
        # The control: at the same URL a subscription that exists renews (so the answer
        # above is about the probe's SID, not a wrong path).
        server = await asyncio.start_server(_answer_ok, ha_host.ip, 0)
        port = server.sockets[0].getsockname()[1]
        fresh = {"NT": "upnp:event", "CALLBACK": f"<http://{ha_host.ip}:{port}/>", **renew}
        try:
            async with session.request("SUBSCRIBE", url, headers=fresh) as response:
                assert response.status == 200
                own_sid = response.headers["SID"]
            own = {"SID": own_sid, **renew}
            async with session.request("SUBSCRIBE", url, headers=own) as response:
                assert response.status == 200
        finally:
            server.close()
            await server.wait_closed()


async def _answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Our own event callback for the control subscription: any NOTIFY is answered 200."""
    await reader.read(4096)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()
