"""An appliance entry never moves to a new host silently (issue #10, item 1; location.py).

The scripted devices of conftest.py: the entry's agent on loopback, an impostor (or the
moved agent) on a LAN address. The router LAN tests run the same rules over real SSDP.
"""

from __future__ import annotations

import pytest
import pytest_socket
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.const import CONF_LOCATION, DOMAIN, MAX_LAN_TEXT
from custom_components.upnp_guard.location import (
    MoveRefusal,
    default_gateways,
    description_udn,
)
from custom_components.upnp_guard.notify_server import same_address
from custom_components.upnp_guard.transport import device_requester, url_host
from tests.fakes.ssdp import announce_configured, ssdp_announcement

from .conftest import LAN_BASE_URL, FakeUpnpDevice, agent

AGENT_TYPE = "urn:upnp-guard-org:device:Agent:1"


def announcement(udn: str, location: str, source: str) -> SsdpServiceInfo:
    return ssdp_announcement(udn, location, source, AGENT_TYPE, "Garage agent", "upnp:rootdevice")


announce = announce_configured


def registered(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    registry = dr.async_get(hass)
    return {device.id for device in dr.async_entries_for_config_entry(registry, entry.entry_id)}


# Another host, on loopback so that an entry can be set up there (the scripted devices
# live behind aioclient_mock; 127.0.0.2 is trusted as the entries' typed 127.0.0.1 is).
OTHER_BASE_URL = "http://127.0.0.2:49152"


@pytest.fixture
def impostor(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> FakeUpnpDevice:
    """Another host serving a copy of the agent's description: its UDN and embedded UDNs."""
    device_requester(hass).trust_host(url_host(OTHER_BASE_URL))
    pytest_socket.socket_allow_hosts(["127.0.0.1", "127.0.0.2"])
    return FakeUpnpDevice(aioclient_mock, agent(), base_url=OTHER_BASE_URL)


async def test_impostor_announcing_the_agent_raises_a_repair_and_keeps_its_devices(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    impostor: FakeUpnpDevice,
) -> None:
    entry = init_agent
    devices = registered(hass, entry)
    assert len(devices) > 1
    connection = entry.runtime_data
    source = url_host(impostor.location)

    await announce(hass, announcement(agent_device.spec.udn, impostor.location, source))
    assert entry.data[CONF_LOCATION] == agent_device.location
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is connection
    assert registered(hass, entry) == devices
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"location_move_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["reason"] == MoveRefusal.OLD_ANSWERS.value
    assert issue.translation_placeholders["new_host"] == source
    assert issue.translation_placeholders["old_host"] == url_host(agent_device.location)

    # The user says it did move: the entry follows and reloads there.
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] == FlowResultType.MENU
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "accept"})
    assert result["type"] == FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.data[CONF_LOCATION] == impostor.location
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not connection
    assert entry.runtime_data.device.device_url == impostor.location
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None


async def test_new_location_with_another_udn_is_refused(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The old location is gone and the announcement came from the new host, but what
    answers there is another device (or nothing)."""
    entry = init_agent
    other = FakeUpnpDevice(aioclient_mock, agent("uuid:agent-9999"), base_url=LAN_BASE_URL)
    agent_device.offline = True
    await announce(
        hass, announcement(agent_device.spec.udn, other.location, url_host(other.location))
    )
    assert entry.data[CONF_LOCATION] == agent_device.location
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"location_move_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["reason"] == MoveRefusal.UDN.value


async def test_agent_that_really_moved_is_followed_silently(
    hass: HomeAssistant,
    init_agent: MockConfigEntry,
    agent_device: FakeUpnpDevice,
    impostor: FakeUpnpDevice,
) -> None:
    """Same UDN at the new host, which sent the announcement, and nothing at the old."""
    entry = init_agent
    devices = registered(hass, entry)
    agent_device.offline = True
    await announce(
        hass,
        announcement(agent_device.spec.udn, impostor.location, url_host(impostor.location)),
    )
    assert entry.data[CONF_LOCATION] == impostor.location
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.device.device_url == impostor.location
    assert registered(hass, entry) == devices
    assert not [i for (d, i) in ir.async_get(hass).issues if d == DOMAIN]


# What the checks read from the LAN and the kernel: hostile input is "no", never a crash.
ROUTES = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
    "wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
    "eth1\t00000000\t0103A8C0\t0001\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth0\tnot-hex\t0104A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "short line\n"
)


def test_default_gateways_of_the_interfaces_in_use_only() -> None:
    assert default_gateways(ROUTES, {"eth0"}) == {"192.168.1.1"}
    assert default_gateways(ROUTES, {"eth0", "wlan0"}) == {"192.168.1.1", "192.168.2.1"}
    # eth1's default route has no gateway flag; an unknown interface has none.
    assert default_gateways(ROUTES, {"eth1", "tun0"}) == set()
    assert default_gateways("", {"eth0"}) == set()


@pytest.mark.parametrize(
    ("body", "udn"),
    [
        (
            '<root xmlns="urn:schemas-upnp-org:device-1-0"><device><UDN> uuid:a </UDN>'
            "</device></root>",
            "uuid:a",
        ),
        (
            "<root><device><deviceList><device><UDN>uuid:embedded</UDN></device></deviceList>"
            "</device></root>",
            None,
        ),
        ("<root><device><UDN></UDN></device></root>", None),
        ("not xml", None),
        ('<!DOCTYPE r [<!ENTITY a "aaaa">]><root><device><UDN>&a;</UDN></device></root>', None),
        ("<root><device><UDN>" + "u" * 5000 + "</UDN></device></root>", "u" * MAX_LAN_TEXT),
    ],
)
def test_description_udn_reads_the_root_device_only(body: str, udn: str | None) -> None:
    assert description_udn(body) == udn


def test_same_address_compares_addresses_not_spellings() -> None:
    assert same_address("10.0.0.1", "10.0.0.1", {})
    assert same_address("fe80::1", "fe80::1%eth0", {})
    assert same_address("10.0.0.1", "::ffff:10.0.0.1", {})
    assert not same_address("10.0.0.2", "10.0.0.1", {})
    assert not same_address("router.lan", "router.lan", {})  # a name proves nothing...
    assert same_address("router.lan", "10.0.0.1", {"router.lan": frozenset({"10.0.0.1"})})
    assert not same_address("", "", {})
