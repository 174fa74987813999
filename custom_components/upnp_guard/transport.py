"""HTTP to devices: one guarded requester per Home Assistant instance.

Every request the integration makes to a device (description, SCPD, SOAP, GENA
SUBSCRIBE/UNSUBSCRIBE, port listings) goes through `DeviceRequester`, a `UpnpRequester`
(async-upnp-client's public transport boundary) over Home Assistant's shared aiohttp
session:

- redirects are never followed: a 3xx is answered to the caller as the status it is
  (async-upnp-client then raises UpnpResponseError), so a device cannot send us to
  127.0.0.1 or a cloud metadata address after the location checks passed;
- every response body is capped while it is read (Content-Length first, then the
  stream), GET (description, SCPD) at MAX_DESCRIPTION_BYTES and everything else (SOAP,
  listings, GENA) at MAX_CONTROL_RESPONSE_BYTES: over the cap, ResponseTooLarge;
- only hosts on the LAN are asked: an IP literal in LAN_NETWORKS, or a host whose URL
  the user typed (`async_trust_typed_location`); anything else raises LocationRefused
  before a connection is made.

It is kept in hass.data (as core's dlna_dmr keeps its factory in domain data), with the
counters diagnostics report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any, Final, override
from urllib.parse import urlsplit

from aiohttp import ClientConnectionError, ClientError, ClientSession, ClientTimeout
from async_upnp_client.client import UpnpRequester
from async_upnp_client.const import HttpRequest, HttpResponse
from async_upnp_client.exceptions import (
    UpnpCommunicationError,
    UpnpConnectionError,
    UpnpConnectionTimeoutError,
    UpnpError,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .const import (
    DEVICE_REQUEST_ATTEMPTS,
    DEVICE_REQUEST_TIMEOUT,
    DOMAIN,
    LAN_NETWORKS,
    MAX_CONTROL_RESPONSE_BYTES,
    MAX_DESCRIPTION_BYTES,
    REFUSED_ADDRESSES,
)
from .lan_text import get_logger

_LOGGER = get_logger(__name__)

_LAN: Final = tuple(ip_network(network) for network in LAN_NETWORKS)
_REFUSED: Final = frozenset(ip_address(address) for address in REFUSED_ADDRESSES)

# Every way a request to a device fails, for every caller (both kinds, flows, services):
# the answer was wrong or refused (UpnpError, with LocationRefused and ResponseTooLarge),
# the connection failed (aiohttp's ClientError; OSError for a socket error raised outside
# aiohttp, as finding the local address does) or it did not come in time (TimeoutError).
TRANSPORT_ERRORS: Final[tuple[type[Exception], ...]] = (
    UpnpError,
    ClientError,
    OSError,
    TimeoutError,
)

DEVICE_TRANSPORT: HassKey[DeviceRequester] = HassKey(f"{DOMAIN}_device_transport")


class LocationRefused(UpnpCommunicationError):
    """The URL's host is not on the LAN and the user did not type it."""


class ResponseTooLarge(UpnpCommunicationError):
    """A device's answer is larger than the documented cap for its kind."""


@dataclass(slots=True)
class TransportCounters:
    """What the requester refused since Home Assistant started (diagnostics), and the
    SSDP announcements of configured devices that came from another address
    (location.py, appliance/presence.py)."""

    refused_locations: int = 0
    redirects_not_followed: int = 0
    responses_too_large: int = 0
    foreign_announcements: int = 0


def url_host(url: str) -> str:
    """The URL's host, lowercased, IPv6 without brackets ("" when there is none)."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:  # an unbalanced IPv6 bracket
        return ""


def ip_literal(host: str) -> IPv4Address | IPv6Address | None:
    """The address `host` spells, or None for a name (IPv4-mapped IPv6 unwrapped)."""
    try:
        address = ip_address(host)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_lan_host(host: str) -> bool:
    """Whether `host` is an IP literal in a private or link-local range (LAN_NETWORKS)."""
    address = ip_literal(host)
    if address is None or address in _REFUSED:
        return False
    # The scope of fe80::1%eth0 does not change which network it is in.
    plain = ip_address(str(address).split("%", 1)[0])
    return any(plain.version == network.version and plain in network for network in _LAN)


def _content_length(value: str | None) -> int | None:
    """Content-Length as a number (None when absent or not a number: the stream cap holds)."""
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


def _scope_free_host(url: str) -> dict[str, str]:
    """A Host header without the IPv6 zone (fe80::1%eth0 means nothing to the device)."""
    host = url_host(url)
    if "%" not in host:
        return {}
    port = urlsplit(url).port
    bare = f"[{host.split('%', 1)[0]}]"
    return {"Host": f"{bare}:{port}" if port else bare}


def response_cap(method: str) -> int:
    """The body cap of a response to `method` (GET: description or SCPD)."""
    return MAX_DESCRIPTION_BYTES if method.upper() == "GET" else MAX_CONTROL_RESPONSE_BYTES


class DeviceRequester(UpnpRequester):
    """The integration's only way to send HTTP to a device (see the module docstring)."""

    def __init__(self, session: ClientSession) -> None:
        self._session = session
        self._timeout = ClientTimeout(total=DEVICE_REQUEST_TIMEOUT)
        # Hosts of description URLs the user typed (config flow, or an entry made so).
        self.typed_hosts: set[str] = set()
        self.counters = TransportCounters()

    def trust_host(self, host: str) -> None:
        """Let requests go to `host` although it is not on the LAN (the user typed it)."""
        self.typed_hosts.add(host.lower())

    def is_allowed(self, url: str) -> bool:
        """Whether a request to `url` may be made at all."""
        if urlsplit(url).scheme not in ("http", "https"):
            return False
        host = url_host(url)
        return bool(host) and (host in self.typed_hosts or is_lan_host(host))

    @override
    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        """Send one request; refuse, cap and never redirect as the module docstring says.

        Like async-upnp-client's AiohttpSessionRequester, a connection the device closed
        under us (HTTP/1.1 lets it close an idle keep-alive connection at any time) is
        tried again, DEVICE_REQUEST_ATTEMPTS times in all.
        """
        if not self.is_allowed(http_request.url):
            self.counters.refused_locations += 1
            raise LocationRefused(
                f"{http_request.url[:128]!r} is not on the local network (private or "
                "link-local address) and was not typed by the user"
            )
        for attempt in range(DEVICE_REQUEST_ATTEMPTS):
            try:
                return await self._async_request_once(http_request)
            except ClientConnectionError as err:
                if isinstance(err, UpnpConnectionError):  # our timeout: no retry
                    raise
                if attempt + 1 == DEVICE_REQUEST_ATTEMPTS:
                    raise UpnpConnectionError(repr(err)) from err
                _LOGGER.debug(
                    "%r during %s %s; retrying", err, http_request.method, http_request.url
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _async_request_once(self, http_request: HttpRequest) -> HttpResponse:
        cap = response_cap(http_request.method)
        try:
            async with self._session.request(
                http_request.method,
                http_request.url,
                headers={**_scope_free_host(http_request.url), **(http_request.headers or {})},
                data=http_request.body,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                if 300 <= response.status < 400:
                    self.counters.redirects_not_followed += 1
                    _LOGGER.debug(
                        "Not following the redirect of %s %s (HTTP %s)",
                        http_request.method,
                        http_request.url,
                        response.status,
                    )
                length = _content_length(response.headers.get("Content-Length"))
                if length is not None and length > cap:
                    raise self._too_large(http_request, f"Content-Length {length}", cap)
                body = bytearray()
                async for chunk in response.content.iter_any():
                    body += chunk
                    if len(body) > cap:
                        raise self._too_large(http_request, "body", cap)
                text = bytes(body).decode(response.charset or "utf-8")
                return HttpResponse(response.status, response.headers, text)
        except TimeoutError as err:
            raise UpnpConnectionTimeoutError(repr(err)) from err
        except ClientConnectionError, UpnpCommunicationError:
            raise
        except (ClientError, UnicodeDecodeError, LookupError) as err:
            raise UpnpCommunicationError(repr(err)) from err

    def _too_large(self, http_request: HttpRequest, what: str, cap: int) -> ResponseTooLarge:
        self.counters.responses_too_large += 1
        return ResponseTooLarge(
            f"{http_request.method} {http_request.url[:128]}: {what} over {cap} bytes"
        )

    def diagnostics(self) -> dict[str, Any]:
        """Counters for diagnostics (how many hosts are typed, not which)."""
        return {**asdict(self.counters), "typed_hosts": len(self.typed_hosts)}


def device_requester(hass: HomeAssistant) -> DeviceRequester:
    """The Home Assistant instance's requester (created on first use)."""
    if (requester := hass.data.get(DEVICE_TRANSPORT)) is None:
        requester = hass.data[DEVICE_TRANSPORT] = DeviceRequester(async_get_clientsession(hass))
    return requester


def async_trust_typed_location(hass: HomeAssistant, location: str) -> str:
    """The user typed `location`: its host may be asked although it is not on the LAN.

    Returns the host, for the entry to store (CONF_TYPED_HOST) so it is trusted again
    after a restart.
    """
    host = url_host(location)
    if host:
        device_requester(hass).trust_host(host)
    return host
