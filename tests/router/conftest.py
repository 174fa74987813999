"""Fixtures and helpers for router (IGD) entry tests.

Two routers: the real miniupnpd on the simulated LAN (`router`, tests marked `lan`, root
needed) and the fake IGD of tests/fakes/igd.py behind aioclient_mock (`fake_igd`,
`init_fake_router`: no LAN, no root).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_TYPED_HOST,
    CONF_UDN,
    DOMAIN,
    EntryKind,
)
from custom_components.upnp_guard.transport import url_host
from tests.fakes.igd import IGD2, FakeIgd
from tests.lan import Host, Router

# upnpc -l rows: " 0 TCP  4445->10.1.2.11:445  'desc' '' 3600"
UPNPC_ROW = re.compile(
    r"^\s*\d+\s+(?P<protocol>TCP|UDP)\s+(?P<external_port>\d+)->(?P<client>[\d.]+):"
    r"(?P<internal_port>\d+)\s+'(?P<description>.*)'\s+'(?P<remote_host>.*)'\s+(?P<lease>\d+)",
    re.MULTILINE,
)


def upnpc_mappings(host: Host, router: Router, *, flag: str = "-l") -> list[dict[str, Any]]:
    """The router's table as miniupnpc's upnpc lists it."""
    output = host.run("upnpc", "-u", router.description_url, flag, timeout=120).stdout
    return [
        {
            "protocol": m["protocol"],
            "external_port": int(m["external_port"]),
            "internal_client": m["client"],
            "internal_port": int(m["internal_port"]),
            "description": m["description"],
            "remote_host": m["remote_host"],
            "lease": int(m["lease"]),
        }
        for m in UPNPC_ROW.finditer(output)
    ]


def upnpc_add(
    host: Host,
    router: Router,
    external_port: int,
    protocol: str = "TCP",
    *,
    internal_port: int | None = None,
    description: str = "libminiupnpc",
    lease: int = 3600,
) -> None:
    host.run(
        "upnpc",
        "-u",
        router.description_url,
        "-e",
        description,
        "-a",
        host.ip,
        str(internal_port or external_port),
        str(external_port),
        protocol,
        str(lease),
    )


def router_udn(router: Router) -> str:
    """The UDN miniupnpd serves, as its miniupnpd.conf sets it."""
    conf = dict(
        line.split("=", 1) for line in router.conf_path.read_text().splitlines() if "=" in line
    )
    return f"uuid:{conf['uuid']}"


def router_entry(
    location: str,
    udn: str,
    *,
    title: str = "Router",
    typed: bool = False,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A router entry as the config flow makes it: the unique id is the router's UDN.

    `typed`: the URL counts as typed by the user, as it must for a router on loopback
    (the fakes behind aioclient_mock), which is no LAN address (transport.py).
    """
    data: dict[str, Any] = {
        CONF_KIND: EntryKind.ROUTER.value,
        CONF_LOCATION: location,
        CONF_UDN: udn,
        CONF_DEVICE_TYPE: IGD2,
    }
    if typed:
        data[CONF_TYPED_HOST] = url_host(location)
    return MockConfigEntry(
        domain=DOMAIN, title=title, unique_id=udn, data=data, options=options or {}
    )


async def async_setup_router(
    hass: HomeAssistant, router: Router, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    """An entry for the LAN's miniupnpd, set up and loaded."""
    entry = router_entry(
        router.description_url, router_udn(router), title="Test router", options=options
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


# Home Assistant's address as the fake router's entries see it.
FAKE_HA_IP = "127.0.0.1"


@pytest.fixture
def fake_igd(aioclient_mock: AiohttpClientMocker) -> FakeIgd:
    """An IGD:2 router without a LAN (tests/fakes/igd.py)."""
    return FakeIgd(aioclient_mock)


def fake_router_entry(igd: FakeIgd, options: dict[str, Any] | None = None) -> MockConfigEntry:
    return router_entry(
        igd.location, igd.spec.udn, title="Fake router", typed=True, options=options
    )


async def async_setup_fake_router(
    hass: HomeAssistant, igd: FakeIgd, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    entry = fake_router_entry(igd, options)
    entry.add_to_hass(hass)
    # PHACC reports 10.10.10.10 as Home Assistant's address; the notify server must bind
    # where the fake can reach it.
    with patch("homeassistant.components.network.async_get_source_ip", return_value=FAKE_HA_IP):
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


@pytest.fixture
async def init_fake_router(
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> AsyncGenerator[MockConfigEntry]:
    """A router entry set up on the fake IGD (unloaded after the test)."""
    entry = await async_setup_fake_router(hass, fake_igd)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
