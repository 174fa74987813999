"""A router entry never moves to a new host silently (issue #10, item 1; location.py).

Real miniupnpd, real SSDP datagrams from the hosts of the simulated LAN, and Home
Assistant's own SSDP scanner (which passes the datagram's source on as `_host`) where
the test is about what arrives over the network; flows started by hand where it is about
one check alone (a real announcement would race miniupnpd's own).
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.upnp_guard.const import CONF_LOCATION, DOMAIN, MOVE_CHECK_INTERVAL_S
from custom_components.upnp_guard.location import MoveRefusal
from tests.fakes.ssdp import announce_configured, ssdp_announcement
from tests.lan import Host, Router
from tests.lan.waits import wait_for

from .conftest import async_setup_router, router_udn

pytestmark = pytest.mark.lan

LAN_DIR = Path(__file__).parents[1] / "lan"
IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
MOVED_PORT = 5001
ROGUE_PORT = "8080"


def send_notify(host: Host, source: str, nts: str, udn: str, location: str = "") -> None:
    """One NOTIFY datagram from `host`, sent from its address `source`."""
    host.run(sys.executable, str(LAN_DIR / "rogue_ssdp.py"), source, nts, udn, IGD2, location)


def move_miniupnpd(router: Router, udn: str) -> None:
    """The router serves its description on another port now (same UDN): the old
    location no longer answers."""
    router.http_port = MOVED_PORT
    router.start_miniupnpd(extra_options={"uuid": udn.removeprefix("uuid:")})


def drop_ssdp_from(ha_host: Host, router: Router) -> None:
    """Home Assistant no longer hears the router's own SSDP (its scanner would start a
    flow of its own when miniupnpd restarts): only the test's announcements count."""
    for rule in (
        "add table inet ugtest",
        "add chain inet ugtest input { type filter hook input priority 0 ; }",
        f"add rule inet ugtest input ip saddr {router.ip} udp dport 1900 drop",
        f"add rule inet ugtest input ip saddr {router.ip} udp sport 1900 drop",
    ):
        ha_host.run("nft", *rule.split())


def announcement(location: str, udn: str, source: str) -> SsdpServiceInfo:
    return ssdp_announcement(udn, location, source, IGD2, "Home router", IGD2)


announce = announce_configured


async def test_attacker_announcing_the_router_at_its_own_host_raises_a_repair(
    ha_host: Host,
    router: Router,
    attacker: Host,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    """The attacker serves a copy of the router's description (its UDN) and announces it
    from its own address while the router's UPnP daemon is down: source, UDN and "old
    location gone" all check out; only the gateway rule stops the hijack."""
    entry = await async_setup_router(hass, router)
    udn = router_udn(router)
    old = entry.data[CONF_LOCATION]
    rogue = attacker.start(
        sys.executable, str(LAN_DIR / "rogue_device.py"), attacker.ip, ROGUE_PORT, "", udn
    )
    rogue.wait_for_output("listening")
    copy = f"http://{attacker.ip}:{ROGUE_PORT}/copy.xml"
    await hass.async_add_executor_job(router.stop_miniupnpd)
    assert await async_setup_component(hass, "repairs", {})
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()

    await hass.async_add_executor_job(send_notify, attacker, attacker.ip, "ssdp:alive", udn, copy)
    issues = ir.async_get(hass)
    issue_id = f"location_move_{entry.entry_id}"
    await wait_for(lambda: issues.async_get_issue(DOMAIN, issue_id) is not None, "repair")
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {
        "name": "Test router",
        "old_host": router.ip,
        "new_host": attacker.ip,
        "source": attacker.ip,
        "reason": MoveRefusal.GATEWAY.value,
    }
    assert entry.data[CONF_LOCATION] == old

    # The user knows better (say, a new router): the fix flow moves the entry.
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] == FlowResultType.MENU
    assert result["menu_options"] == ["accept", "ignore"]
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "accept"})
    assert result["type"] == FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.data[CONF_LOCATION] == copy
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    # It reconnected there (the copy has no WAN service: the entry waits, as for any
    # router that is not an IGD).
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_router_that_really_moved_is_followed_silently(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """miniupnpd restarted on another port announces itself there (real SSDP from the
    gateway's own address; its old location is gone): the entry follows, no repair."""
    entry = await async_setup_router(hass, router)
    udn = router_udn(router)
    assert await async_setup_component(hass, "ssdp", {})
    await hass.async_block_till_done()
    await hass.async_add_executor_job(move_miniupnpd, router, udn)
    new = router.description_url
    assert f":{MOVED_PORT}/" in new

    await wait_for(lambda: entry.data[CONF_LOCATION] == new, "followed the router")
    await wait_for(
        lambda: (
            entry.state is ConfigEntryState.LOADED and entry.runtime_data.device.device_url == new
        ),
        "reconnected at the new location",
    )
    assert not [issue for (domain, issue) in ir.async_get(hass).issues if domain == DOMAIN]


async def test_spoofed_source_is_refused_even_when_the_rest_checks_out(
    ha_host: Host,
    router: Router,
    attacker: Host,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    """The router really moved, but the announcement came from the attacker: refused
    (the source is what says the host itself spoke). Checks are throttled per entry."""
    entry = await async_setup_router(hass, router)
    udn = router_udn(router)
    old = entry.data[CONF_LOCATION]
    await hass.async_add_executor_job(drop_ssdp_from, ha_host, router)
    await hass.async_add_executor_job(move_miniupnpd, router, udn)
    forged = announcement(router.description_url, udn, source=attacker.ip)
    issues = ir.async_get(hass)
    issue_id = f"location_move_{entry.entry_id}"

    await announce(hass, forged)
    assert entry.data[CONF_LOCATION] == old
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["reason"] == MoveRefusal.SOURCE.value
    assert issue.translation_placeholders["source"] == attacker.ip

    # Within MOVE_CHECK_INTERVAL_S the entry is not checked again (no traffic, no
    # issue): the announcement waits, and a later one (here the router's own) replaces
    # it, so forging cannot make the entry miss the real move.
    ir.async_delete_issue(hass, DOMAIN, issue_id)
    await announce(hass, forged)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await announce(hass, announcement(router.description_url, udn, source=router.ip))
    assert entry.data[CONF_LOCATION] == old
    later = MOVE_CHECK_INTERVAL_S + 1
    with patch(
        "custom_components.upnp_guard.location.time.monotonic",
        return_value=time.monotonic() + later,
    ):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=later))
        await hass.async_block_till_done()
    assert entry.data[CONF_LOCATION] == router.description_url
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_other_router_at_the_address_waits_and_keeps_the_devices(
    ha_host: Host, router: Router, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Another UPnP router (another UDN) now answers at the stored location (issue #10,
    item 9a): setup waits with an `other_device` issue and removes nothing."""
    entry = await async_setup_router(hass, router)
    udn = router_udn(router)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert devices
    assert entities
    issue_id = f"other_device_{entry.entry_id}"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_add_executor_job(
        lambda: router.start_miniupnpd(
            extra_options={"uuid": "0badc0de-0000-4000-8000-000000000001"}
        )
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert "0badc0de" in issue.translation_placeholders["found"]
    assert dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id) == devices
    assert er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id) == entities

    # The router is back: the next attempt loads it and the issue goes.
    await hass.async_add_executor_job(
        lambda: router.start_miniupnpd(extra_options={"uuid": udn.removeprefix("uuid:")})
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
