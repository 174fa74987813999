"""Pure parts of the router code: policy rules, risk flags, listing parsers, the ladder."""

from __future__ import annotations

from typing import Any, ClassVar

import probatio as vol
import pytest
from async_upnp_client.exceptions import UpnpActionResponseError, UpnpError

from custom_components.upnp_guard.router import igd as igd_module
from custom_components.upnp_guard.router.const import MAX_PORT_LISTING_BYTES, MAX_PORT_MAPPINGS
from custom_components.upnp_guard.router.igd import IgdClient
from custom_components.upnp_guard.router.listing import parse_port_listing
from custom_components.upnp_guard.router.models import (
    Origin,
    PortMapping,
    RemovalResult,
    RiskFlag,
    key_from_id,
    key_id,
)
from custom_components.upnp_guard.router.policy import (
    AllowRule,
    InvalidRule,
    Policy,
    parse_clients,
    parse_rules,
    risk_flags,
)
from custom_components.upnp_guard.router.services import ADD_SCHEMA


def mapping(**changes: Any) -> PortMapping:
    values: dict[str, Any] = {
        "remote_host": "",
        "external_port": 8080,
        "protocol": "TCP",
        "internal_client": "10.20.30.40",
        "internal_port": 8080,
        "enabled": True,
        "description": "web",
        "lease_duration": 3600,
    }
    return PortMapping(**(values | changes))


@pytest.mark.parametrize(
    ("rule", "hit", "miss"),
    [
        ("10.20.30.40 8080 TCP", mapping(), mapping(protocol="UDP")),
        ("10.20.30.0/24 8000-8100 *", mapping(), mapping(external_port=8101)),
        ("* * * web*", mapping(description="webcam"), mapping(description="Web")),
        ("* * udp", mapping(protocol="UDP"), mapping()),
        # A router may report a client that is no IPv4 literal: an address rule never
        # matches it (the mapping stays a violation instead of an error).
        ("10.20.30.0/24 * *", mapping(), mapping(internal_client="fe80::1")),
    ],
)
def test_allow_rule_matches(rule: str, hit: PortMapping, miss: PortMapping) -> None:
    parsed = AllowRule.parse(rule)
    assert parsed.matches(hit)
    assert not parsed.matches(miss)
    # The normalised text parses back to the same rule.
    assert AllowRule.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "bad",
    [
        "10.0.0.1 80",  # too few parts
        "host.lan 80 TCP",  # not an address
        "10.0.0.1 0 TCP",  # port out of range
        "10.0.0.1 90-80 TCP",  # reversed range
        "10.0.0.1 http TCP",
        "10.0.0.1 80 SCTP",
        "10.0.0.1 80 TCP " + "x" * 300,
    ],
)
def test_bad_allow_rule_is_refused_and_good_rules_still_parse(bad: str) -> None:
    with pytest.raises(InvalidRule):
        parse_rules([bad])
    assert len(parse_rules(["# comment", "", "* 80 TCP"])) == 1


def test_rule_count_and_clients_are_bounded() -> None:
    with pytest.raises(InvalidRule):
        parse_rules(["* 80 TCP"] * 201)
    with pytest.raises(InvalidRule):
        parse_clients(["10.0.0.300"])
    assert parse_clients([" 10.0.0.3 ", "#x"]) == ["10.0.0.3"]


def test_policy_from_bad_options_falls_back_to_monitor_and_no_rules() -> None:
    policy = Policy.from_options({"mode": "yolo", "allow_rules": ["garbage"]})
    assert policy.mode == "monitor"
    assert policy.rules == ()
    assert not policy.allows(mapping())


def test_risk_flags() -> None:
    assert risk_flags(mapping(), client_known=True) == frozenset()
    flags = risk_flags(
        mapping(
            external_port=445,
            internal_port=445,
            lease_duration=0,
            description="Galleta Silenciosa",
            remote_host="192.0.2.1",
            malformed=True,
        ),
        client_known=False,
    )
    assert flags == set(RiskFlag)
    # Dangerous service on the inside, harmless port outside: still flagged.
    assert risk_flags(mapping(internal_port=3389), client_known=True) == {
        RiskFlag.DANGEROUS_SERVICE
    }


def test_origin_from_miniupnpd_descriptions() -> None:
    assert mapping(description="NAT-PMP 5000 udp").origin is Origin.NATPMP
    assert mapping(description="PCP MAP abcdef").origin is Origin.PCP
    assert mapping(description="Skype").origin is Origin.UPNP


def test_key_id_round_trip() -> None:
    keys = [
        ("", 80, "TCP"),
        ("192.0.2.1", 65535, "UDP"),
        # A router may list any text as the remote host: one that reads as the wildcard
        # or as the escape, and one with the separator, keep their own ids.
        ("any", 80, "TCP"),
        ("=any", 80, "TCP"),
        ("=", 80, "TCP"),
        ("a_b_c", 80, "TCP"),
    ]
    for key in keys:
        assert key_from_id(key_id(key)) == key
    assert len({key_id(key) for key in keys}) == len(keys)
    # Ids stored before the escape existed read as they did.
    assert key_id(("", 80, "TCP")) == "tcp_80_any"
    assert key_id(("192.0.2.1", 80, "TCP")) == "tcp_80_192.0.2.1"


LISTING = (
    '<p:PortMappingList xmlns:p="urn:schemas-upnp-org:gw:WANIPConnection">'
    "<p:PortMappingEntry><p:NewRemoteHost></p:NewRemoteHost>"
    "<p:NewExternalPort>4445</p:NewExternalPort><p:NewProtocol>TCP</p:NewProtocol>"
    "<p:NewInternalPort>445</p:NewInternalPort><p:NewInternalClient>10.1.2.3</p:NewInternalClient>"
    "<p:NewEnabled>1</p:NewEnabled><p:NewDescription>smb</p:NewDescription>"
    "<p:NewLeaseTime>3600</p:NewLeaseTime></p:PortMappingEntry></p:PortMappingList>"
)


def test_parse_port_listing() -> None:
    assert parse_port_listing(LISTING) == [
        mapping(
            external_port=4445,
            internal_port=445,
            internal_client="10.1.2.3",
            description="smb",
        )
    ]
    assert parse_port_listing("") == []


@pytest.mark.parametrize(
    "hostile",
    [
        # Entity expansion (billion laughs): defusedxml refuses it.
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><p:PortMappingList xmlns:p="x">&a;</p:PortMappingList>',
        "<p:PortMappingList",  # truncated
        " " * (MAX_PORT_LISTING_BYTES + 1),  # too large to parse at all
    ],
)
def test_hostile_port_listing_is_an_upnp_error_and_parsing_still_works(hostile: str) -> None:
    with pytest.raises(UpnpError):
        parse_port_listing(hostile)
    assert len(parse_port_listing(LISTING)) == 1


class FakeAction:
    """A UpnpAction that answers from a function of its arguments."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    async def async_call(self, **args: Any) -> Any:
        self.calls.append(args)
        return self.answer(**args)


class FakeService:
    def __init__(self, service_type: str, actions: dict[str, FakeAction]) -> None:
        self.service_type = service_type
        self.actions = actions


class FakeDevice:
    device_type = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"

    def __init__(self, actions: dict[str, FakeAction]) -> None:
        self.all_services = [
            FakeService("urn:schemas-upnp-org:service:WANPPPConnection:1", actions)
        ]


def fault(code: int) -> UpnpActionResponseError:
    return UpnpActionResponseError(status=500, error_code=code)


def entry(index: int) -> dict[str, Any]:
    return {
        "NewRemoteHost": "",
        "NewExternalPort": 1024 + index,
        "NewProtocol": "TCP",
        "NewInternalPort": 80,
        "NewInternalClient": "10.1.2.3",
        "NewEnabled": True,
        "NewPortMappingDescription": "x",
        "NewLeaseDuration": 0,
    }


@pytest.mark.parametrize("end_code", [713, 714, 402, 500])
async def test_generic_walk_stops_on_end_codes(end_code: int) -> None:
    def answer(NewPortMappingIndex: int) -> dict[str, Any]:
        if NewPortMappingIndex >= 3:
            raise fault(end_code)
        return entry(NewPortMappingIndex)

    client = IgdClient(FakeDevice({"GetGenericPortMappingEntry": FakeAction(answer)}))  # type: ignore[arg-type]
    mappings = await client.async_list_port_mappings()
    assert [m.external_port for m in mappings] == [1024, 1025, 1026]
    assert mappings[0].lease_duration == 0


async def test_generic_walk_is_capped_for_a_router_that_never_ends() -> None:
    action = FakeAction(lambda NewPortMappingIndex: entry(NewPortMappingIndex % 1000))
    client = IgdClient(FakeDevice({"GetGenericPortMappingEntry": action}))  # type: ignore[arg-type]
    mappings = await client.async_list_port_mappings()
    assert len(mappings) == MAX_PORT_MAPPINGS
    assert len(action.calls) == MAX_PORT_MAPPINGS


async def test_generic_walk_raises_other_faults() -> None:
    def answer(NewPortMappingIndex: int) -> dict[str, Any]:
        raise fault(501)

    client = IgdClient(FakeDevice({"GetGenericPortMappingEntry": FakeAction(answer)}))  # type: ignore[arg-type]
    with pytest.raises(UpnpError):
        await client.async_list_port_mappings()


async def test_ladder_without_range_delete_ends_with_the_user() -> None:
    def refuse(**_args: Any) -> None:
        raise fault(606)

    client = IgdClient(FakeDevice({"DeletePortMapping": FakeAction(refuse)}))  # type: ignore[arg-type]
    assert await client.async_remove_port_mapping("", 80, "TCP") is RemovalResult.MANUAL


async def test_add_sends_lease_in_whole_seconds_and_wildcard_remote_host() -> None:
    add = FakeAction(lambda **_args: {})
    client = IgdClient(FakeDevice({"AddPortMapping": add}))  # type: ignore[arg-type]
    await client.async_add_port_mapping(
        remote_host="",
        external_port=8443,
        protocol="TCP",
        internal_client="10.1.2.3",
        internal_port=8123,
        description="HA",
        lease_duration=3 * 86400 + 5,
    )
    assert add.calls[0]["NewLeaseDuration"] == 3 * 86400 + 5
    assert add.calls[0]["NewRemoteHost"] == ""


def test_not_an_igd() -> None:
    class Bare:
        device_type = "urn:schemas-upnp-org:device:BinaryLight:1"
        all_services: ClassVar[list[Any]] = []

    with pytest.raises(igd_module.NotAnIgd):
        IgdClient(Bare())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"lease_duration": 0},  # permanent
        {"lease_duration": 604801},  # beyond IGD:2's week
        {"lease_duration": 9},  # below MIN_LEASE
        {"external_port": 0},
        {"external_port": 65536},
        {"protocol": "SCTP"},
        {"description": "x" * 65},
        {"remote_host": "example.org"},
        {"internal_client": "10.0.0.256"},
    ],
)
def test_add_schema_refuses_bad_input_and_accepts_good(bad: dict[str, Any]) -> None:
    good = {"external_port": 8443, "protocol": "tcp", "lease_duration": 3600}
    with pytest.raises(vol.Invalid):
        ADD_SCHEMA(good | bad)
    parsed = ADD_SCHEMA(good | {"remote_host": "*"})
    assert parsed["protocol"] == "TCP"
    assert parsed["remote_host"] == ""
    assert parsed["description"] == "UPnP Guard"
