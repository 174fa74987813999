"""Diagnostics of a router entry on miniupnpd: a snapshot, with what identifies the
household (external address, host names, MAC addresses, serial, UDN) redacted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from tests.lan import Host, Lan

from .actions import async_add_port_mapping
from .conftest import async_setup_router, upnpc_add

pytestmark = pytest.mark.lan

MAC = "00:1a:2b:3c:4d:5e"
SERIAL = "SN-7731-0042"
HOST_NAME = "alice-laptop"
# Values a run cannot fix: counters and clocks of the router, timestamps of the audit.
VARYING = {
    "uptime",
    "bytes_received",
    "bytes_sent",
    "packets_received",
    "packets_sent",
    "download_rate",
    "upload_rate",
    "lease_remaining",
    "first_seen",
    "event_count",
}


def _stable(value: Any, addresses: dict[str, str]) -> Any:
    """The diagnostics with this run's random addresses named and varying values typed."""
    if isinstance(value, dict):
        return {
            key: (type(item).__name__ if key in VARYING else _stable(item, addresses))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_stable(item, addresses) for item in value]
    if isinstance(value, str):
        for address, name in addresses.items():
            # Whole addresses only: 10.0.0.1 is not the start of 10.0.0.10.
            value = re.sub(rf"(?<![\d.]){re.escape(address)}(?![\d])", name, value)
    return value


async def test_router_diagnostics_are_redacted(  # noqa: PLR0917
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    enable_custom_integrations: None,
    snapshot: SnapshotAssertion,
) -> None:
    router = lan.add_router()
    # The router chooses its own strings: a MAC in the friendly name, a serial number.
    router.start_miniupnpd(extra_options={"friendly_name": f"Home router {MAC}", "serial": SERIAL})
    laptop = lan.add_host("laptop")
    upnpc_add(laptop, router, 4444, description=f"backdoor {MAC.replace(':', '-')}")
    # A device tracker names the host behind the mapping (the mapping's owner).
    hass.states.async_set("device_tracker.alice", "home", {"ip": laptop.ip, "host_name": HOST_NAME})
    entry = await async_setup_router(hass, router)
    await async_add_port_mapping(
        hass, {"external_port": 8443, "protocol": "TCP", "lease_duration": 600}
    )
    state = entry.runtime_data.coordinator.data
    assert state.wan.external_ip == router.wan_ip  # there is something to redact

    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    text = repr(result)
    for secret in (router.wan_ip, HOST_NAME, MAC, MAC.replace(":", "-"), SERIAL):
        assert secret not in text, secret
    assert entry.runtime_data.device.udn not in text
    assert laptop.ip in text  # internal clients are private addresses: they stay
    addresses = {router.ip: "<router>", ha_host.ip: "<home-assistant>", laptop.ip: "<laptop>"}
    assert _stable(result, addresses) == snapshot


async def test_diagnostics_of_a_router_that_cannot_be_set_up(
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    enable_custom_integrations: None,
) -> None:
    """The case diagnostics are for: the entry waits to retry; the download still works."""
    router = lan.add_router()
    router.start_miniupnpd()
    entry = await async_setup_router(hass, router)
    await hass.async_add_executor_job(router.stop_miniupnpd)
    assert await hass.config_entries.async_reload(entry.entry_id) is False
    assert entry.state is ConfigEntryState.SETUP_RETRY

    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert result["state"] == "setup_retry"
    assert router.ip in result["reason"]
    assert result["entry"]["data"]["location"] == router.description_url
    assert result["entry"]["data"]["udn"] == "**REDACTED**"
