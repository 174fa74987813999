"""Talk to an Internet Gateway Device through async-upnp-client's raw UpnpActions.

async-upnp-client's IGD profile has gaps we cannot live with: it sends
`lease_duration.seconds` (a lease of two days becomes 0, i.e. permanent), it has no
wildcard remote host (it needs an IPv4Address), and it lacks IGD:2's
GetListOfPortMappings and DeletePortMappingRange. So the actions are called directly.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from async_upnp_client.client import UpnpAction, UpnpDevice, UpnpService
from async_upnp_client.exceptions import UpnpActionError, UpnpError, UpnpResponseError
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as DET

from .const import (
    COMMON_INTERFACE_SERVICE_TYPE,
    CONNECTION_SERVICE_TYPES,
    END_OF_TABLE_CODES,
    ERR_NO_SUCH_ENTRY,
    ERR_PORT_MAPPING_NOT_FOUND,
    LAN_HOST_CONFIG_SERVICE_TYPE,
    LIST_PAGE_SIZE,
    MAX_PORT_LISTING_BYTES,
    MAX_PORT_MAPPINGS,
    RANGE_DELETE_CODES,
)
from .models import PortMapping, RemovalResult, WanStatus

_LOGGER = logging.getLogger(__name__)


class NotAnIgd(UpnpError):
    """The device has no WANIPConnection or WANPPPConnection service."""


def upnp_error_code(err: BaseException) -> int | None:
    """The UPnP error code of a fault, or the HTTP status of a bare error answer."""
    code = getattr(err, "error_code", None)
    if code is not None:
        return int(code)
    if isinstance(err, UpnpResponseError):
        return err.status
    return None


def _text(element: Any, name: str) -> str:
    for child in element:
        if child.tag.rsplit("}", 1)[-1] == name:
            return str(child.text or "").strip()
    return ""


def parse_port_listing(listing: str) -> list[PortMapping]:
    """Parse IGD:2's NewPortListing (a PortMappingList XML document, defused)."""
    if len(listing) > MAX_PORT_LISTING_BYTES:
        raise UpnpError(f"port listing larger than {MAX_PORT_LISTING_BYTES} bytes")
    if not listing.strip():
        return []
    try:
        root = DET.fromstring(listing)
    except (ET.ParseError, DefusedXmlException) as err:
        # A router answering junk (or entity bombs) is an error of that router, handled
        # like any other UPnP error by the caller, never an exception that escapes.
        raise UpnpError(f"unreadable port listing: {err}") from err
    mappings = []
    for entry in root:
        if entry.tag.rsplit("}", 1)[-1] != "PortMappingEntry":
            continue
        mappings.append(
            PortMapping(
                remote_host=_text(entry, "NewRemoteHost"),
                external_port=int(_text(entry, "NewExternalPort")),
                protocol=_text(entry, "NewProtocol").upper(),
                internal_client=_text(entry, "NewInternalClient"),
                internal_port=int(_text(entry, "NewInternalPort")),
                enabled=_text(entry, "NewEnabled") in ("1", "true", "yes"),
                description=_text(entry, "NewDescription"),
                lease_duration=int(_text(entry, "NewLeaseTime") or 0),
            )
        )
    return mappings


def _from_generic(result: Mapping[str, Any]) -> PortMapping:
    return PortMapping(
        remote_host=str(result.get("NewRemoteHost") or ""),
        external_port=int(result["NewExternalPort"]),
        protocol=str(result["NewProtocol"]).upper(),
        internal_client=str(result["NewInternalClient"]),
        internal_port=int(result["NewInternalPort"]),
        enabled=bool(result.get("NewEnabled", True)),
        description=str(result.get("NewPortMappingDescription") or ""),
        lease_duration=int(result.get("NewLeaseDuration") or 0),
    )


class IgdClient:
    """The port-mapping, WAN status and DNS side of one router."""

    def __init__(self, device: UpnpDevice) -> None:
        services = {service.service_type: service for service in device.all_services}
        connection = next((services[t] for t in CONNECTION_SERVICE_TYPES if t in services), None)
        if connection is None:
            raise NotAnIgd(f"{device.device_type} offers no WAN connection service")
        self.device = device
        self.connection: UpnpService = connection
        self.common: UpnpService | None = services.get(COMMON_INTERFACE_SERVICE_TYPE)
        self.lan_host_config: UpnpService | None = services.get(LAN_HOST_CONFIG_SERVICE_TYPE)

    # -- capabilities -------------------------------------------------------------------
    def _action(self, name: str, service: UpnpService | None = None) -> UpnpAction | None:
        service = service or self.connection
        return service.actions.get(name)

    @property
    def has_port_listing(self) -> bool:
        """IGD:2's GetListOfPortMappings: the whole table in one call per protocol."""
        return self._action("GetListOfPortMappings") is not None

    @property
    def has_range_delete(self) -> bool:
        return self._action("DeletePortMappingRange") is not None

    @property
    def has_dns_servers(self) -> bool:
        return (
            self.lan_host_config is not None
            and self._action("GetDNSServers", self.lan_host_config) is not None
        )

    async def _call(self, name: str, service: UpnpService | None = None, **args: Any) -> Any:
        action = self._action(name, service)
        if action is None:
            raise UpnpError(f"router has no {name} action")
        return await action.async_call(**args)

    # -- inventory ----------------------------------------------------------------------
    async def async_list_port_mappings(self) -> list[PortMapping]:
        """The whole table, by the fastest means the router offers."""
        if self.has_port_listing:
            tcp, udp = await asyncio.gather(
                self._async_list_protocol("TCP"), self._async_list_protocol("UDP")
            )
            return (tcp + udp)[:MAX_PORT_MAPPINGS]
        return await self._async_list_generic()

    async def _async_list_protocol(self, protocol: str) -> list[PortMapping]:
        mappings: list[PortMapping] = []
        start = 0
        while start <= 65535 and len(mappings) < MAX_PORT_MAPPINGS:
            try:
                result = await self._call(
                    "GetListOfPortMappings",
                    NewStartPort=start,
                    NewEndPort=65535,
                    NewProtocol=protocol,
                    # NewManage=1 asks for every client's mappings, not only ours.
                    NewManage=True,
                    NewNumberOfPorts=LIST_PAGE_SIZE,
                )
            except UpnpActionError as err:
                if upnp_error_code(err) in (ERR_PORT_MAPPING_NOT_FOUND, ERR_NO_SUCH_ENTRY):
                    break
                raise
            page = parse_port_listing(str(result.get("NewPortListing") or ""))
            page = [m for m in page if m.external_port >= start]
            mappings.extend(page)
            if len(page) < LIST_PAGE_SIZE:
                break
            start = max(m.external_port for m in page) + 1
        return mappings

    async def _async_list_generic(self) -> list[PortMapping]:
        """GetGenericPortMappingEntry by index until the router says the table ended."""
        mappings: list[PortMapping] = []
        for index in range(MAX_PORT_MAPPINGS):
            try:
                result = await self._call("GetGenericPortMappingEntry", NewPortMappingIndex=index)
            except UpnpError as err:
                if upnp_error_code(err) in END_OF_TABLE_CODES:
                    break
                raise
            mappings.append(_from_generic(result))
        else:
            _LOGGER.warning("Port-mapping table capped at %s entries", MAX_PORT_MAPPINGS)
        return mappings

    async def async_get_port_mapping(
        self, remote_host: str, external_port: int, protocol: str
    ) -> PortMapping | None:
        try:
            result = await self._call(
                "GetSpecificPortMappingEntry",
                NewRemoteHost=remote_host,
                NewExternalPort=external_port,
                NewProtocol=protocol,
            )
        except UpnpActionError as err:
            if upnp_error_code(err) == ERR_NO_SUCH_ENTRY:
                return None
            raise
        return _from_generic(
            {
                **result,
                "NewRemoteHost": remote_host,
                "NewExternalPort": external_port,
                "NewProtocol": protocol,
            }
        )

    # -- management ---------------------------------------------------------------------
    async def async_add_port_mapping(
        self,
        *,
        remote_host: str,
        external_port: int,
        protocol: str,
        internal_client: str,
        internal_port: int,
        description: str,
        lease_duration: int,
    ) -> None:
        """AddPortMapping with the lease in whole seconds and "" as wildcard remote host."""
        await self._call(
            "AddPortMapping",
            NewRemoteHost=remote_host,
            NewExternalPort=external_port,
            NewProtocol=protocol,
            NewInternalPort=internal_port,
            NewInternalClient=internal_client,
            NewEnabled=True,
            NewPortMappingDescription=description,
            NewLeaseDuration=lease_duration,
        )

    async def async_remove_port_mapping(
        self, remote_host: str, external_port: int, protocol: str
    ) -> RemovalResult:
        """The removal ladder: DeletePortMapping, then IGD:2's range delete, then the user.

        Routers in secure mode refuse DeletePortMapping for another host's mapping (606)
        but miniupnpd (like the IGD:2 spec's NewManage) honours DeletePortMappingRange.
        """
        try:
            await self._call(
                "DeletePortMapping",
                NewRemoteHost=remote_host,
                NewExternalPort=external_port,
                NewProtocol=protocol,
            )
        except UpnpError as err:
            code = upnp_error_code(err)
            if code not in RANGE_DELETE_CODES or not self.has_range_delete:
                _LOGGER.debug("DeletePortMapping %s/%s refused: %s", external_port, protocol, err)
                return RemovalResult.MANUAL
        else:
            return RemovalResult.DELETED
        try:
            await self._call(
                "DeletePortMappingRange",
                NewStartPort=external_port,
                NewEndPort=external_port,
                NewProtocol=protocol,
                NewManage=True,
            )
        except UpnpError as err:
            _LOGGER.debug("DeletePortMappingRange %s/%s refused: %s", external_port, protocol, err)
            return RemovalResult.MANUAL
        # A range delete says nothing about which mapping went: check it really is gone
        # (a remote-host-specific mapping on the same port may be the one still there).
        if await self.async_get_port_mapping(remote_host, external_port, protocol) is not None:
            return RemovalResult.MANUAL
        return RemovalResult.RANGE_DELETED

    # -- WAN status and DNS ---------------------------------------------------------------
    async def _optional(self, name: str, service: UpnpService | None) -> Mapping[str, Any]:
        if service is None or self._action(name, service) is None:
            return {}
        try:
            result: Mapping[str, Any] = await self._call(name, service)
        except UpnpActionError as err:
            _LOGGER.debug("%s failed: %s", name, err)
            return {}
        return result

    async def async_wan_status(self) -> WanStatus:
        status, address, received, sent, packets_in, packets_out = await asyncio.gather(
            self._optional("GetStatusInfo", self.connection),
            self._optional("GetExternalIPAddress", self.connection),
            self._optional("GetTotalBytesReceived", self.common),
            self._optional("GetTotalBytesSent", self.common),
            self._optional("GetTotalPacketsReceived", self.common),
            self._optional("GetTotalPacketsSent", self.common),
        )
        return WanStatus(
            connection_status=status.get("NewConnectionStatus"),
            uptime=status.get("NewUptime"),
            external_ip=address.get("NewExternalIPAddress") or None,
            bytes_received=received.get("NewTotalBytesReceived"),
            bytes_sent=sent.get("NewTotalBytesSent"),
            packets_received=packets_in.get("NewTotalPacketsReceived"),
            packets_sent=packets_out.get("NewTotalPacketsSent"),
        )

    async def async_dns_servers(self) -> str | None:
        """GetDNSServers only: UPnP Guard never calls a Set action on the router's DNS."""
        if not self.has_dns_servers:
            return None
        result = await self._call("GetDNSServers", self.lan_host_config)
        servers = [s.strip() for s in str(result.get("NewDNSServers") or "").split(",")]
        return ",".join(sorted(s for s in servers if s))
