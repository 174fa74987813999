"""Port-mapping policy: allow rules, modes and risk flags (pure functions, no I/O)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from .const import (
    CONF_ADD_CLIENTS,
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
    DANGEROUS_PORTS,
    DEFAULT_GRACE_PERIOD,
    MALICIOUS_DESCRIPTIONS,
    MAPPING_PROTOCOLS,
    MAX_ALLOW_RULES,
    MAX_DESCRIPTION_LENGTH,
    MODE_ENFORCE,
    MODE_MONITOR,
    PRIVILEGED_PORT_LIMIT,
)
from .models import PortMapping, RiskFlag

ANY = "*"
MAX_PORT = 65535


class InvalidRule(ValueError):
    """An allow rule that does not parse; the message names the offending part."""


@dataclass(frozen=True, slots=True)
class AllowRule:
    """`<client> <ports> <protocol> [description pattern]`; `*` matches anything.

    client: an IPv4 address or network; ports: one external port or `first-last`;
    protocol: TCP or UDP; the description pattern is a shell-style glob (case-sensitive
    like the router's own descriptions).
    """

    network: ipaddress.IPv4Network | None
    first_port: int
    last_port: int
    protocol: str | None
    description: str | None

    def matches(self, mapping: PortMapping) -> bool:
        if self.network is not None:
            try:
                if ipaddress.IPv4Address(mapping.internal_client) not in self.network:
                    return False
            except ValueError:
                return False
        if not self.first_port <= mapping.external_port <= self.last_port:
            return False
        if self.protocol is not None and mapping.protocol != self.protocol:
            return False
        if self.description is None:
            return True
        # The description of a malformed row is whatever a LAN host made the parser see.
        return not mapping.malformed and fnmatchcase(mapping.description, self.description)

    @classmethod
    def parse(cls, text: str) -> AllowRule:
        parts = text.split(None, 3)
        if len(parts) < 3:
            raise InvalidRule(f"expected '<client> <ports> <protocol> [description]': {text!r}")
        client, ports, protocol = parts[0], parts[1], parts[2].upper()
        description = parts[3] if len(parts) == 4 else None
        network = None
        if client != ANY:
            try:
                network = ipaddress.IPv4Network(client, strict=False)
            except ValueError as err:
                raise InvalidRule(f"not an IPv4 address or network: {client!r}") from err
        first, last = 1, MAX_PORT
        if ports != ANY:
            low, _, high = ports.partition("-")
            try:
                first, last = int(low), int(high or low)
            except ValueError as err:
                raise InvalidRule(f"not a port or port range: {ports!r}") from err
            if not 1 <= first <= last <= MAX_PORT:
                raise InvalidRule(f"port range out of 1-{MAX_PORT}: {ports!r}")
        if protocol != ANY and protocol not in MAPPING_PROTOCOLS:
            raise InvalidRule(f"protocol must be TCP, UDP or *: {parts[2]!r}")
        if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidRule("description pattern too long")
        return cls(
            network=network,
            first_port=first,
            last_port=last,
            protocol=None if protocol == ANY else protocol,
            description=None if description in (None, ANY) else description,
        )

    def __str__(self) -> str:
        client = str(self.network) if self.network is not None else ANY
        if client.endswith("/32"):
            client = client[:-3]
        ports = (
            ANY
            if (self.first_port, self.last_port) == (1, MAX_PORT)
            else str(self.first_port)
            if self.first_port == self.last_port
            else f"{self.first_port}-{self.last_port}"
        )
        text = f"{client} {ports} {self.protocol or ANY}"
        return f"{text} {self.description}" if self.description else text


def parse_rules(lines: Sequence[str]) -> list[AllowRule]:
    """Parse allow rules, ignoring blank lines and `#` comments."""
    rules = [
        AllowRule.parse(line)
        for line in (raw.strip() for raw in lines)
        if line and not line.startswith("#")
    ]
    if len(rules) > MAX_ALLOW_RULES:
        raise InvalidRule(f"at most {MAX_ALLOW_RULES} rules")
    return rules


def parse_clients(lines: Sequence[str]) -> list[str]:
    """Extra hosts (besides Home Assistant's own) that add_port_mapping may target."""
    clients = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            clients.append(str(ipaddress.IPv4Address(line)))
        except ValueError as err:
            raise InvalidRule(f"not an IPv4 address: {line!r}") from err
    return clients


@dataclass(frozen=True, slots=True)
class Policy:
    """The options of a router entry, parsed."""

    mode: str
    grace_period: int
    rules: tuple[AllowRule, ...]
    add_clients: frozenset[str]

    @property
    def enforce(self) -> bool:
        return self.mode == MODE_ENFORCE

    def allows(self, mapping: PortMapping) -> bool:
        return any(rule.matches(mapping) for rule in self.rules)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Policy:
        """Options were validated by the options flow; anything else falls back to safe."""
        mode = options.get(CONF_MODE, MODE_MONITOR)
        try:
            rules = tuple(parse_rules(options.get(CONF_ALLOW_RULES, [])))
            clients = frozenset(parse_clients(options.get(CONF_ADD_CLIENTS, [])))
        except InvalidRule:
            rules, clients = (), frozenset()
        return cls(
            mode=mode if mode in (MODE_MONITOR, MODE_ENFORCE) else MODE_MONITOR,
            grace_period=int(options.get(CONF_GRACE_PERIOD, DEFAULT_GRACE_PERIOD)),
            rules=rules,
            add_clients=clients,
        )


def risk_flags(mapping: PortMapping, *, client_known: bool) -> frozenset[RiskFlag]:
    """Flags for one mapping; `client_known` says whether Home Assistant knows the host."""
    flags = set()
    if mapping.external_port < PRIVILEGED_PORT_LIMIT:
        flags.add(RiskFlag.PRIVILEGED_PORT)
    if mapping.external_port in DANGEROUS_PORTS or mapping.internal_port in DANGEROUS_PORTS:
        flags.add(RiskFlag.DANGEROUS_SERVICE)
    if mapping.lease_duration == 0:
        flags.add(RiskFlag.PERMANENT_LEASE)
    description = mapping.description.lower()
    if any(marker in description for marker in MALICIOUS_DESCRIPTIONS):
        flags.add(RiskFlag.MALICIOUS_DESCRIPTION)
    if not client_known:
        flags.add(RiskFlag.UNKNOWN_CLIENT)
    if mapping.remote_host:
        flags.add(RiskFlag.REMOTE_HOST_SET)
    if mapping.malformed:
        flags.add(RiskFlag.MALFORMED_ENTRY)
    return frozenset(flags)
