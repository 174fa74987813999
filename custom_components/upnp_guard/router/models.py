"""Port mappings as the router reports them, and what UPnP Guard knows about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from ..lan_text import clean
from .const import NATPMP_DESCRIPTION_PREFIX, PCP_DESCRIPTION_PREFIX

type MappingKey = tuple[str, int, str]  # (remote host or "", external port, protocol)


class Origin(StrEnum):
    """Which protocol created a mapping, as far as its description tells."""

    UPNP = "upnp"
    NATPMP = "nat-pmp"
    PCP = "pcp"
    UPNP_GUARD = "upnp_guard"


class RiskFlag(StrEnum):
    """Why a mapping deserves attention."""

    PRIVILEGED_PORT = "privileged_port"
    DANGEROUS_SERVICE = "dangerous_service"
    PERMANENT_LEASE = "permanent_lease"
    MALICIOUS_DESCRIPTION = "malicious_description"
    UNKNOWN_CLIENT = "unknown_client"
    REMOTE_HOST_SET = "remote_host_set"
    # The router's answer for this row did not parse (a description crafted to break
    # XML, a field that is no number or address): what is shown was recovered from it.
    MALFORMED_ENTRY = "malformed_entry"


class RemovalResult(StrEnum):
    """How far the removal ladder got."""

    DELETED = "deleted"
    RANGE_DELETED = "range_deleted"
    MANUAL = "manual"  # the router refused: a repair issue tells the user what to do


@dataclass(frozen=True, slots=True, kw_only=True)
class PortMapping:
    """One row of the router's port-mapping table."""

    remote_host: str  # "" is the wildcard: any remote host may connect
    external_port: int
    protocol: str
    internal_client: str
    internal_port: int
    enabled: bool
    description: str
    lease_duration: int  # seconds remaining; 0 is a permanent mapping
    # True when the row had to be recovered from an answer that did not parse: its
    # description (and any field after it) is untrusted.
    malformed: bool = False

    @property
    def key(self) -> MappingKey:
        """The identity of a mapping in UPnP: remote host, external port, protocol."""
        return (self.remote_host, self.external_port, self.protocol)

    @property
    def origin(self) -> Origin:
        if self.description.startswith(NATPMP_DESCRIPTION_PREFIX):
            return Origin.NATPMP
        if self.description.startswith(PCP_DESCRIPTION_PREFIX):
            return Origin.PCP
        return Origin.UPNP


class PortMappingTable(list[PortMapping]):
    """The rows of one listing, and how many rows the router had that could not be read."""

    unreadable: int = 0


# The wildcard remote host ("" in UPnP) in key_id's text, and the mark that escapes a
# router's remote host that would read as it (a router may list any text there: a
# literal "any" must not become the wildcard mapping's id, or a repair of one would
# remove or allow the other).
_ANY_HOST: Final = "any"
_LITERAL_HOST: Final = "="


def key_id(key: MappingKey) -> str:
    """A stable text form of a mapping key (issue ids, storage); one key, one text."""
    remote_host, port, protocol = key
    if not remote_host:
        host = _ANY_HOST
    elif remote_host == _ANY_HOST or remote_host.startswith(_LITERAL_HOST):
        host = _LITERAL_HOST + remote_host
    else:
        host = remote_host
    return f"{protocol.lower()}_{port}_{host}"


def key_from_id(text: str) -> MappingKey:
    """Inverse of key_id (raises ValueError on anything else)."""
    protocol, port, host = text.split("_", 2)
    if host == _ANY_HOST:
        remote_host = ""
    elif host.startswith(_LITERAL_HOST):
        remote_host = host.removeprefix(_LITERAL_HOST)
    else:
        remote_host = host
    return (remote_host, int(port), protocol.upper())


@dataclass(slots=True, kw_only=True)
class OwnedMapping:
    """A mapping created through UPnP Guard: kept alive until the user removes it."""

    remote_host: str
    external_port: int
    protocol: str
    internal_client: str
    internal_port: int
    description: str
    lease_duration: int  # seconds asked for on each (re-)add

    @property
    def key(self) -> MappingKey:
        return (self.remote_host, self.external_port, self.protocol)

    def as_dict(self) -> dict[str, Any]:
        return {
            "remote_host": self.remote_host,
            "external_port": self.external_port,
            "protocol": self.protocol,
            "internal_client": self.internal_client,
            "internal_port": self.internal_port,
            "description": self.description,
            "lease_duration": self.lease_duration,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OwnedMapping:
        return cls(
            remote_host=str(data["remote_host"]),
            external_port=int(data["external_port"]),
            protocol=str(data["protocol"]),
            internal_client=str(data["internal_client"]),
            internal_port=int(data["internal_port"]),
            description=str(data["description"]),
            lease_duration=int(data["lease_duration"]),
        )


@dataclass(slots=True, kw_only=True)
class MappingReport:
    """A mapping with its audit: owner, origin, risk flags and policy verdict."""

    mapping: PortMapping
    owner: str | None
    origin: Origin
    flags: frozenset[RiskFlag]
    allowed: bool
    first_seen: str  # ISO 8601, UTC
    owned: bool = False

    def as_dict(self) -> dict[str, Any]:
        m = self.mapping
        return {
            "protocol": m.protocol,
            "external_port": m.external_port,
            "internal_client": m.internal_client,
            "internal_port": m.internal_port,
            "remote_host": m.remote_host,
            "description": clean(m.description),
            "enabled": m.enabled,
            "lease_remaining": m.lease_duration,
            "first_seen": self.first_seen,
            "owner": None if self.owner is None else clean(self.owner),
            "origin": self.origin.value,
            "owned": self.owned,
            "risk_flags": sorted(flag.value for flag in self.flags),
            "violates_policy": not self.allowed,
        }


@dataclass(slots=True, kw_only=True)
class WanStatus:
    """WAN side of the router; None where the router does not offer the value."""

    connection_status: str | None = None
    uptime: int | None = None
    external_ip: str | None = None
    bytes_received: int | None = None
    bytes_sent: int | None = None
    packets_received: int | None = None
    packets_sent: int | None = None


@dataclass(slots=True, kw_only=True)
class RouterState:
    """What one poll of the router produced."""

    reports: list[MappingReport] = field(default_factory=list)
    wan: WanStatus = field(default_factory=WanStatus)
    download_rate: float | None = None  # bytes/s since the previous poll
    upload_rate: float | None = None
    dns_servers: str | None = None

    @property
    def violations(self) -> list[MappingReport]:
        return [report for report in self.reports if not report.allowed]
