"""An Internet Gateway Device behind aioclient_mock: router tests without a LAN (or root).

`FakeIgd` is a `FakeUpnpDevice` with WANIPConnection (:2 by default, :1 with
`igd_v1=True`) and WANCommonInterfaceConfig, holding a port-mapping table it answers
from like miniupnpd does: GetGenericPortMappingEntry by index (713 past the end),
GetSpecificPortMappingEntry (714), AddPortMapping (718 when another host holds the
port), DeletePortMapping (714), and on IGD:2 GetListOfPortMappings (730 when nothing is
in range) and DeletePortMappingRange. PortMappingNumberOfEntries is evented: after a
change, `send_events` NOTIFYs every subscriber over real HTTP to the callback it gave.
`refuse` makes an action answer a UPnP error (606 for DeletePortMapping is a router in
secure mode). The `*_lan` tests run the same integration against the real miniupnpd.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

import aiohttp
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from .upnp_device import BASE_URL, DeviceSpec, FakeUpnpDevice, ServiceSpec, ServiceState, SoapFault

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
IGD1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
WAN_IP_CONNECTION = "urn:schemas-upnp-org:service:WANIPConnection:{version}"
WAN_COMMON = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
IGD_UDN = "uuid:fake-igd-0001"

_ROW_OUT = [
    ("NewInternalPort", "out", "InternalPort"),
    ("NewInternalClient", "out", "InternalClient"),
    ("NewEnabled", "out", "PortMappingEnabled"),
    ("NewPortMappingDescription", "out", "PortMappingDescription"),
    ("NewLeaseDuration", "out", "PortMappingLeaseDuration"),
]
_KEY = [
    ("NewRemoteHost", "in", "RemoteHost"),
    ("NewExternalPort", "in", "ExternalPort"),
    ("NewProtocol", "in", "PortMappingProtocol"),
]


@dataclass
class Row:
    """One row of the fake router's table."""

    external_port: int
    protocol: str
    internal_client: str
    internal_port: int
    description: str = "libminiupnpc"
    lease: int = 3600
    remote_host: str = ""
    enabled: bool = True

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.remote_host, self.external_port, self.protocol)


def wan_ip_connection(version: int) -> ServiceSpec:
    variables = {
        "ConnectionStatus": ("string", True, "Connected"),
        "LastConnectionError": ("string", False, "ERROR_NONE"),
        "Uptime": ("ui4", False, "5000"),
        "ExternalIPAddress": ("string", True, "203.0.113.7"),
        "PortMappingNumberOfEntries": ("ui2", True, "0"),
        "RemoteHost": ("string", False, ""),
        "ExternalPort": ("ui2", False, "0"),
        "InternalPort": ("ui2", False, "0"),
        "PortMappingProtocol": ("string", False, "TCP"),
        "InternalClient": ("string", False, ""),
        "PortMappingEnabled": ("boolean", False, "1"),
        "PortMappingDescription": ("string", False, ""),
        "PortMappingLeaseDuration": ("ui4", False, "0"),
        "A_ARG_TYPE_Manage": ("boolean", False, "0"),
        "A_ARG_TYPE_PortListing": ("string", False, ""),
    }
    actions = {
        "GetStatusInfo": [
            ("NewConnectionStatus", "out", "ConnectionStatus"),
            ("NewLastConnectionError", "out", "LastConnectionError"),
            ("NewUptime", "out", "Uptime"),
        ],
        "GetExternalIPAddress": [("NewExternalIPAddress", "out", "ExternalIPAddress")],
        "GetGenericPortMappingEntry": [
            ("NewPortMappingIndex", "in", "PortMappingNumberOfEntries"),
            ("NewRemoteHost", "out", "RemoteHost"),
            ("NewExternalPort", "out", "ExternalPort"),
            ("NewProtocol", "out", "PortMappingProtocol"),
            *_ROW_OUT,
        ],
        "GetSpecificPortMappingEntry": [*_KEY, *_ROW_OUT],
        "AddPortMapping": [
            *_KEY,
            ("NewInternalPort", "in", "InternalPort"),
            ("NewInternalClient", "in", "InternalClient"),
            ("NewEnabled", "in", "PortMappingEnabled"),
            ("NewPortMappingDescription", "in", "PortMappingDescription"),
            ("NewLeaseDuration", "in", "PortMappingLeaseDuration"),
        ],
        "DeletePortMapping": list(_KEY),
    }
    if version >= 2:
        range_args = [
            ("NewStartPort", "in", "ExternalPort"),
            ("NewEndPort", "in", "ExternalPort"),
            ("NewProtocol", "in", "PortMappingProtocol"),
            ("NewManage", "in", "A_ARG_TYPE_Manage"),
        ]
        actions["GetListOfPortMappings"] = [
            *range_args,
            ("NewNumberOfPorts", "in", "PortMappingNumberOfEntries"),
            ("NewPortListing", "out", "A_ARG_TYPE_PortListing"),
        ]
        actions["DeletePortMappingRange"] = range_args
    return ServiceSpec(
        WAN_IP_CONNECTION.format(version=version),
        "urn:upnp-org:serviceId:WANIPConn1",
        variables,
        actions,
    )


def wan_common_interface() -> ServiceSpec:
    counters = ("TotalBytesReceived", "TotalBytesSent", "TotalPacketsReceived", "TotalPacketsSent")
    return ServiceSpec(
        WAN_COMMON,
        "urn:upnp-org:serviceId:WANCommonIFC1",
        {
            "PhysicalLinkStatus": ("string", True, "Up"),
            **dict.fromkeys(counters, ("ui4", False, "1000")),
        },
        {f"Get{name}": [(f"New{name}", "out", name)] for name in counters},
    )


def igd(version: int = 2, udn: str = IGD_UDN) -> DeviceSpec:
    """An IGD as routers nest it: root, WANDevice, WANConnectionDevice."""
    connection = DeviceSpec(
        f"urn:schemas-upnp-org:device:WANConnectionDevice:{version}",
        f"{udn}-wancon",
        "WANConnectionDevice",
        [wan_ip_connection(version)],
    )
    wan = DeviceSpec(
        f"urn:schemas-upnp-org:device:WANDevice:{version}",
        f"{udn}-wan",
        "WANDevice",
        [wan_common_interface()],
        embedded=[connection],
    )
    return DeviceSpec(
        IGD2 if version >= 2 else IGD1,
        udn,
        "Fake router",
        [],
        embedded=[wan],
        manufacturer="UPnP Guard tests",
        model_name="Fake IGD",
    )


class FakeIgd(FakeUpnpDevice):
    """A router's port-mapping side (see module docstring)."""

    def __init__(
        self, mocker: AiohttpClientMocker, *, igd_v1: bool = False, base_url: str = BASE_URL
    ) -> None:
        self.version = 1 if igd_v1 else 2
        super().__init__(mocker, igd(self.version), base_url)
        self.rows: list[Row] = []
        self.refuse: dict[str, int] = {}
        self.connection = self.state(
            f"{IGD_UDN}-wancon", WAN_IP_CONNECTION.format(version=self.version)
        )
        self.common = self.state(f"{IGD_UDN}-wan", WAN_COMMON)
        self._seq: dict[str, int] = {}

    def add_row(self, row: Row) -> None:
        """A mapping some LAN host made (as upnpc -a would)."""
        self.rows.append(row)
        self._count_changed()

    def _count_changed(self) -> None:
        self.set(self.connection, "PortMappingNumberOfEntries", str(len(self.rows)))

    def _find(self, key: tuple[str, int, str]) -> Row | None:
        return next((row for row in self.rows if row.key == key), None)

    def perform(self, state: ServiceState, action: str, args: dict[str, str]) -> dict[str, str]:
        if action in self.refuse:
            raise SoapFault(self.refuse[action], f"{action} refused")
        handler = getattr(self, f"_do_{action}", None)
        if state is not self.connection or handler is None:
            return super().perform(state, action, args)
        result: dict[str, str] = handler(args)
        return result

    @staticmethod
    def _key(args: dict[str, str]) -> tuple[str, int, str]:
        # An empty element may come as <NewRemoteHost/>, which the request parser skips.
        return (args.get("NewRemoteHost", ""), int(args["NewExternalPort"]), args["NewProtocol"])

    @staticmethod
    def _row_out(row: Row) -> dict[str, str]:
        return {
            "NewInternalPort": str(row.internal_port),
            "NewInternalClient": row.internal_client,
            "NewEnabled": "1" if row.enabled else "0",
            "NewPortMappingDescription": row.description,
            "NewLeaseDuration": str(row.lease),
        }

    def _do_GetGenericPortMappingEntry(self, args: dict[str, str]) -> dict[str, str]:
        index = int(args["NewPortMappingIndex"])
        if index >= len(self.rows):
            raise SoapFault(713, "SpecifiedArrayIndexInvalid")
        row = self.rows[index]
        return {
            "NewRemoteHost": row.remote_host,
            "NewExternalPort": str(row.external_port),
            "NewProtocol": row.protocol,
            **self._row_out(row),
        }

    def _do_GetSpecificPortMappingEntry(self, args: dict[str, str]) -> dict[str, str]:
        row = self._find(self._key(args))
        if row is None:
            raise SoapFault(714, "NoSuchEntryInArray")
        return self._row_out(row)

    def _do_AddPortMapping(self, args: dict[str, str]) -> dict[str, str]:
        key = self._key(args)
        current = self._find(key)
        if current is not None and current.internal_client != args["NewInternalClient"]:
            raise SoapFault(718, "ConflictInMappingEntry")
        if current is not None:
            self.rows.remove(current)
        self.rows.append(
            Row(
                remote_host=key[0],
                external_port=key[1],
                protocol=key[2],
                internal_client=args["NewInternalClient"],
                internal_port=int(args["NewInternalPort"]),
                description=args["NewPortMappingDescription"],
                lease=int(args["NewLeaseDuration"]),
                enabled=args["NewEnabled"] in ("1", "true"),
            )
        )
        self._count_changed()
        return {}

    def _do_DeletePortMapping(self, args: dict[str, str]) -> dict[str, str]:
        row = self._find(self._key(args))
        if row is None:
            raise SoapFault(714, "NoSuchEntryInArray")
        self.rows.remove(row)
        self._count_changed()
        return {}

    def _in_range(self, args: dict[str, str]) -> list[Row]:
        start, end = int(args["NewStartPort"]), int(args["NewEndPort"])
        return sorted(
            (
                row
                for row in self.rows
                if row.protocol == args["NewProtocol"] and start <= row.external_port <= end
            ),
            key=lambda row: row.external_port,
        )

    def _do_GetListOfPortMappings(self, args: dict[str, str]) -> dict[str, str]:
        rows = self._in_range(args)[: int(args["NewNumberOfPorts"]) or None]
        if not rows:
            raise SoapFault(730, "PortMappingNotFound")
        entries = "".join(
            "<p:PortMappingEntry>"
            f"<p:NewRemoteHost>{escape(row.remote_host)}</p:NewRemoteHost>"
            f"<p:NewExternalPort>{row.external_port}</p:NewExternalPort>"
            f"<p:NewProtocol>{row.protocol}</p:NewProtocol>"
            f"<p:NewInternalPort>{row.internal_port}</p:NewInternalPort>"
            f"<p:NewInternalClient>{escape(row.internal_client)}</p:NewInternalClient>"
            f"<p:NewEnabled>{int(row.enabled)}</p:NewEnabled>"
            f"<p:NewDescription>{escape(row.description)}</p:NewDescription>"
            f"<p:NewLeaseTime>{row.lease}</p:NewLeaseTime>"
            "</p:PortMappingEntry>"
            for row in rows
        )
        listing = (
            '<?xml version="1.0" encoding="UTF-8"?><p:PortMappingList '
            'xmlns:p="urn:schemas-upnp-org:gw:WANIPConnection">'
            f"{entries}</p:PortMappingList>"
        )
        return {"NewPortListing": listing}

    def _do_DeletePortMappingRange(self, args: dict[str, str]) -> dict[str, str]:
        rows = self._in_range(args)
        if not rows:
            raise SoapFault(730, "PortMappingNotFound")
        for row in rows:
            self.rows.remove(row)
        self._count_changed()
        return {}

    async def send_events(self) -> int:
        """NOTIFY every subscriber of the changes queued since the last call, over HTTP.

        Returns how many NOTIFYs the subscriber accepted (HTTP 200).
        """
        accepted = 0
        async with aiohttp.ClientSession() as session:
            while self.pending:
                state, changes = self.pending.pop(0)
                if state.sid is None or not state.callback:
                    continue
                seq = self._seq.get(state.sid, 0)
                self._seq[state.sid] = seq + 1
                properties = "".join(
                    f"<e:property><{name}>{escape(value)}</{name}></e:property>"
                    for name, value in changes.items()
                )
                async with session.request(
                    "NOTIFY",
                    state.callback,
                    headers={
                        "NT": "upnp:event",
                        "NTS": "upnp:propchange",
                        "SID": state.sid,
                        "SEQ": str(seq),
                        "Content-Type": 'text/xml; charset="utf-8"',
                    },
                    data='<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:'
                    f'event-1-0">{properties}</e:propertyset>',
                ) as response:
                    accepted += response.status == 200
        return accepted
