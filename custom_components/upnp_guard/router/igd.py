"""Talk to an Internet Gateway Device through async-upnp-client's raw UpnpActions.

async-upnp-client's IGD profile has gaps we cannot live with: it sends
`lease_duration.seconds` (a lease of two days becomes 0, i.e. permanent), it has no
wildcard remote host (it needs an IPv4Address), and it lacks IGD:2's
GetListOfPortMappings and DeletePortMappingRange. So the actions are called directly.
This module holds the actions; reading answers is listing.py, the whole table
inventory.py.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from async_upnp_client.client import UpnpAction, UpnpDevice, UpnpService
from async_upnp_client.exceptions import UpnpActionError, UpnpError, UpnpResponseError

from ..lan_text import get_logger
from .const import (
    COMMON_INTERFACE_SERVICE_TYPE,
    CONNECTION_SERVICE_TYPES,
    ERR_NO_SUCH_ENTRY,
    LAN_HOST_CONFIG_SERVICE_TYPE,
    RANGE_DELETE_CODES,
)
from .inventory import async_read_table
from .listing import (
    ROW_ERRORS,
    UnreadableListing,
    log_malformed,
    mapping_from_fields,
    recover_entry,
    upnp_error_code,
)
from .models import PortMapping, PortMappingTable, RemovalResult, WanStatus

_LOGGER = get_logger(__name__)


class NotAnIgd(UpnpError):
    """The device has no WANIPConnection or WANPPPConnection service."""


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
    def action(self, name: str, service: UpnpService | None = None) -> UpnpAction | None:
        service = service or self.connection
        return service.actions.get(name)

    @property
    def has_port_listing(self) -> bool:
        """IGD:2's GetListOfPortMappings: the whole table in one call per protocol."""
        return self.action("GetListOfPortMappings") is not None

    @property
    def has_range_delete(self) -> bool:
        return self.action("DeletePortMappingRange") is not None

    @property
    def has_dns_servers(self) -> bool:
        return (
            self.lan_host_config is not None
            and self.action("GetDNSServers", self.lan_host_config) is not None
        )

    async def async_call(self, name: str, service: UpnpService | None = None, **args: Any) -> Any:
        action = self.action(name, service)
        if action is None:
            raise UpnpError(f"router has no {name} action")
        return await action.async_call(**args)

    # -- inventory ----------------------------------------------------------------------
    async def async_list_port_mappings(self) -> PortMappingTable:
        """The whole table, by the fastest means the router offers (inventory.py)."""
        return await async_read_table(self)

    async def async_raw_answer(self, name: str, **args: Any) -> str:
        """One action's raw answer, for answers that do not parse.

        The steps of async-upnp-client's `UpnpAction.async_call`, through their public
        names, stopping before the answer is parsed: a fault with an HTTP error status is
        raised typed here; one sent with 200 is raised when the body is parsed.
        tests/router/test_library_boundary.py fails if the library's call changes.
        """
        action = self.action(name)
        if action is None:
            raise UpnpError(f"router has no {name} action")
        service = self.connection
        request = service.on_pre_call_action(action, args, action.create_request(**args))
        response = service.on_post_call_action(
            action, await service.requester.async_http_request(request)
        )
        if response.status_code != 200:
            try:
                action.parse_response(service.service_type, response)  # raises the fault
            except UpnpActionError:
                raise
            except UpnpError, ET.ParseError, AttributeError:
                pass
            raise UpnpResponseError(status=response.status_code)
        return response.body or ""

    async def async_get_port_mapping(
        self, remote_host: str, external_port: int, protocol: str
    ) -> PortMapping | None:
        """One row by its key; a hostile answer is read tolerantly and marked malformed."""
        args: dict[str, Any] = {
            "NewRemoteHost": remote_host,
            "NewExternalPort": external_port,
            "NewProtocol": protocol,
        }
        malformed = False
        try:
            result: Mapping[str, Any] = await self.async_call("GetSpecificPortMappingEntry", **args)
        except UpnpActionError as err:
            if upnp_error_code(err) == ERR_NO_SUCH_ENTRY:
                return None
            raise
        except ROW_ERRORS as err:
            _LOGGER.warning("Port mapping %s/%s does not parse (%s)", external_port, protocol, err)
            fields = recover_entry(
                await self.async_raw_answer("GetSpecificPortMappingEntry", **args),
                "NewPortMappingDescription",
            )
            if fields is None:
                raise UnreadableListing(
                    f"unreadable port mapping {external_port}/{protocol}"
                ) from err
            result, malformed = fields, True
        mapping = mapping_from_fields({**result, **args}, malformed=malformed)
        if mapping is None:
            raise UnreadableListing(f"unreadable port mapping {external_port}/{protocol}")
        if mapping.malformed:
            log_malformed(mapping)
        return mapping

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
        await self.async_call(
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
            await self.async_call(
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
            await self.async_call(
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
        if service is None or self.action(name, service) is None:
            return {}
        try:
            result: Mapping[str, Any] = await self.async_call(name, service)
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
        result = await self.async_call("GetDNSServers", self.lan_host_config)
        servers = [s.strip() for s in str(result.get("NewDNSServers") or "").split(",")]
        return ",".join(sorted(s for s in servers if s))
