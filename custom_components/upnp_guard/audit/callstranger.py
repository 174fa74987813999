"""CallStranger probe (CVE-2020-12695, active, opt-in): does a device accept an event
callback on a host other than the subscriber?

UDA 2.0 (2020-04-17) asks devices to refuse such callbacks: a device that accepts them
can be told to send its events (HTTP requests) to any host, for data exfiltration,
scanning or TCP amplification. We subscribe with a callback on Home Assistant's *other*
LAN address (a listener of ours, open only during the probe: never outside the LAN,
never a host we do not control), unsubscribe at once and check the subscription is
gone (a renewal with its SID must fail). A device that accepts, or that sends a NOTIFY
there, is reported (UG-GENA-001).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.const import HttpRequest
from async_upnp_client.exceptions import UpnpError
from homeassistant.core import HomeAssistant

from .. import lan_text
from ..transport import device_requester
from .const import (
    CALLBACK_PROBE_WAIT_S,
    MAX_CALLBACK_PROBE_SERVICES,
    MAX_PROBE_NOTIFY_BYTES,
    PROBE_NOTIFY_READ_S,
)

_ERRORS = (UpnpError, ClientError, OSError, TimeoutError)


@dataclass(slots=True)
class CallbackResult:
    """What the probe saw: services that accepted, NOTIFYs received, all undone?"""

    accepted: list[str] = field(default_factory=list)  # service types
    sids: list[str] = field(default_factory=list)  # of the accepted subscriptions (cleaned)
    notifies: int = 0
    unsubscribed: bool = True  # every accepted subscription verified gone

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted_services": list(self.accepted),
            "sids": list(self.sids),
            "notifies_received": self.notifies,
            "unsubscribed": self.unsubscribed,
        }


class _NotifyListener:
    """Counts NOTIFY requests from one address; answers 200 and closes."""

    def __init__(self, device_ip: str) -> None:
        self.device_ip = device_ip
        self.notifies = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            if peer and peer[0] == self.device_ip:
                async with asyncio.timeout(PROBE_NOTIFY_READ_S):
                    head = await reader.read(MAX_PROBE_NOTIFY_BYTES)
                if head.startswith(b"NOTIFY "):
                    self.notifies += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
        except OSError, TimeoutError:
            pass
        finally:
            writer.close()


async def _request(
    hass: HomeAssistant, method: str, url: str, headers: dict[str, str]
) -> tuple[int, str]:
    response = await device_requester(hass).async_http_request(
        HttpRequest(method, url, headers, None)
    )
    return response.status_code, lan_text.clean(response.headers.get("SID"), 128)


async def async_probe_callstranger(
    hass: HomeAssistant, described: UpnpDevice, device_ip: str, callback_ip: str
) -> CallbackResult:
    """Subscribe each evented service (bounded) with a callback on `callback_ip`."""
    listener = _NotifyListener(device_ip)
    server = await asyncio.start_server(listener.handle, callback_ip, 0)
    port = server.sockets[0].getsockname()[1]
    callback = f"<http://{callback_ip}:{port}/upnp-guard-audit>"
    result = CallbackResult()
    services = [s for s in described.all_services if s.event_sub_url][:MAX_CALLBACK_PROBE_SERVICES]
    try:
        for service in services:
            url = service.event_sub_url
            try:
                status, sid = await _request(
                    hass,
                    "SUBSCRIBE",
                    url,
                    {"CALLBACK": callback, "NT": "upnp:event", "TIMEOUT": "Second-300"},
                )
            except _ERRORS:
                continue
            if status != 200 or not sid:
                continue
            result.accepted.append(lan_text.clean(service.service_type))
            result.sids.append(sid)
            await asyncio.sleep(CALLBACK_PROBE_WAIT_S)  # the initial event, if it comes
            with contextlib.suppress(*_ERRORS):
                await _request(hass, "UNSUBSCRIBE", url, {"SID": sid})
            try:  # gone? a renewal of a removed SID gets 412 Precondition Failed
                renewed, _ = await _request(
                    hass, "SUBSCRIBE", url, {"SID": sid, "TIMEOUT": "Second-300"}
                )
            except _ERRORS:
                renewed = 0
            if renewed == 200:
                result.unsubscribed = False
                with contextlib.suppress(*_ERRORS):
                    await _request(hass, "UNSUBSCRIBE", url, {"SID": sid})
    finally:
        server.close()
        await server.wait_closed()
    result.notifies = listener.notifies
    return result
