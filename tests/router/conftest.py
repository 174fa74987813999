"""Fixtures and helpers for router (IGD) entry tests."""

from __future__ import annotations

import re
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_UDN,
    DOMAIN,
    EntryKind,
)
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


async def async_setup_router(
    hass: HomeAssistant, router: Router, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    # The unique id is the router's UDN, as the config flow makes it (setup checks it).
    udn = router_udn(router)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test router",
        unique_id=udn,
        data={
            CONF_KIND: EntryKind.ROUTER.value,
            CONF_LOCATION: router.description_url,
            CONF_UDN: udn,
            CONF_DEVICE_TYPE: "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
        },
        options=options or {},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry
