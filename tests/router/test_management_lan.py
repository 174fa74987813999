"""add/remove actions, the removal ladder, owned mappings and repair flows on miniupnpd."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.upnp_guard.const import DOMAIN
from custom_components.upnp_guard.router.const import (
    CONF_ALLOW_RULES,
    UPDATE_INTERVAL,
    UPTIME_SLACK,
)
from custom_components.upnp_guard.router.leases import router_store
from tests.lan import Host, Lan, Router

from .actions import async_add_port_mapping, async_list_port_mappings, async_remove_port_mapping
from .conftest import async_setup_router, upnpc_add, upnpc_mappings

pytestmark = pytest.mark.lan


def _row(rows: list[dict[str, object]], port: int) -> dict[str, object] | None:
    return next((row for row in rows if row["external_port"] == port), None)


async def _executor(hass: HomeAssistant, func, *args):  # type: ignore[no-untyped-def]
    return await hass.async_add_executor_job(func, *args)


@pytest.mark.parametrize(
    ("igd_v1", "expected"), [(False, "range_deleted"), (True, "manual")], ids=["igd2", "igd1"]
)
async def test_removal_ladder_in_secure_mode(  # noqa: PLR0917
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    enable_custom_integrations: None,
    igd_v1: bool,
    expected: str,
) -> None:
    router = lan.add_router()
    router.start_miniupnpd(secure_mode=True, igd_v1=igd_v1)
    other = lan.add_host("console")
    upnpc_add(other, router, 3074, "UDP")
    await async_setup_router(hass, router)

    response = await async_remove_port_mapping(
        hass, {"external_port": 3074, "protocol": "udp"}, response=True
    )

    # Secure mode: DeletePortMapping for another host's mapping is refused (606); IGD:2's
    # DeletePortMappingRange removes it, IGD:1 has nothing further: the user must.
    assert response == {"result": expected}
    rows = await _executor(hass, upnpc_mappings, other, router)
    manual = [
        issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.translation_key == "router_manual_removal"
    ]
    if expected == "range_deleted":
        assert _row(rows, 3074) is None
        assert "dport 3074" not in router.nft_ruleset()
        assert not manual
    else:
        assert _row(rows, 3074) is not None
        assert "dport 3074" in router.nft_ruleset()
        assert len(manual) == 1
        assert manual[0].translation_placeholders["internal_client"] == other.ip
        assert manual[0].translation_placeholders["router_host"] == router.ip
    # Either way the entry keeps working: the next poll still lists the table.
    listing = await async_list_port_mappings(hass)
    assert listing is not None
    assert len(listing["port_mappings"]) == (0 if expected == "range_deleted" else 1)  # type: ignore[arg-type]


async def test_add_is_default_deny_and_owned_mapping_is_renewed_and_readded(
    ha_host: Host,
    lan: Lan,
    router: Router,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    other = lan.add_host("laptop")
    entry = await async_setup_router(hass, router)

    # Default deny: not to another host, not without a lease, not permanent.
    with pytest.raises(ServiceValidationError) as refused:
        await async_add_port_mapping(
            hass,
            {
                "external_port": 8443,
                "protocol": "TCP",
                "internal_client": other.ip,
                "lease_duration": 60,
            },
        )
    assert refused.value.translation_key == "router_client_not_allowed"
    for bad_lease in ({}, {"lease_duration": 0}):
        with pytest.raises(Exception, match="lease_duration"):
            await async_add_port_mapping(
                hass, {"external_port": 8443, "protocol": "TCP", **bad_lease}
            )
    rows = await _executor(hass, upnpc_mappings, other, router)
    assert rows == []

    # The gap in async-upnp-client: timedelta(days=2).seconds == 0. Ours keeps the days.
    two_days = 2 * 86400
    response = await async_add_port_mapping(
        hass,
        {
            "external_port": 8443,
            "internal_port": 8123,
            "protocol": "TCP",
            "lease_duration": two_days,
            "description": "HA remote",
        },
        response=True,
    )
    assert response is not None
    assert two_days - 5 <= response["lease_granted"] <= two_days  # type: ignore[operator]
    # Short lease: renewed at half of it.
    await async_add_port_mapping(
        hass, {"external_port": 9000, "protocol": "UDP", "lease_duration": 20}
    )
    rows = await _executor(hass, upnpc_mappings, other, router)
    assert _row(rows, 8443) == {
        "protocol": "TCP",
        "external_port": 8443,
        "internal_client": ha_host.ip,
        "internal_port": 8123,
        "description": "HA remote",
        "remote_host": "",
        "lease": _row(rows, 8443)["lease"],  # type: ignore[index]
    }
    # timedelta(days=2).seconds is 0: the days must survive. The margin only absorbs the
    # time the listing itself takes on a loaded machine.
    assert _row(rows, 8443)["lease"] > two_days - 600  # type: ignore[index,operator]
    await asyncio.sleep(3)  # real seconds pass on the router's lease clock
    before = _row(await _executor(hass, upnpc_mappings, other, router), 9000)
    assert before is not None
    assert before["lease"] <= 18  # type: ignore[operator]
    assert router.daemon is not None
    adds = router.daemon.output().count("AddPortMapping")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    # The renewal runs as a background task of the entry (CI once read the router's log
    # before it had run).
    await hass.async_block_till_done(wait_background_tasks=True)
    after = _row(await _executor(hass, upnpc_mappings, other, router), 9000)
    assert after is not None
    # Renewed at half its lease: the router saw one more AddPortMapping, and the lease
    # started again (read back a moment later: seconds may pass on a loaded machine).
    assert router.daemon.output().count("AddPortMapping") > adds
    assert after["lease"] > 18 - 3  # type: ignore[operator]

    # Owned mappings are neither violations nor alerts.
    listing = await async_list_port_mappings(hass)
    assert listing is not None
    assert {
        m["external_port"]: (m["owned"], m["violates_policy"], m["owner"])
        for m in listing["port_mappings"]
    } == {  # type: ignore[union-attr]
        8443: (True, False, "Home Assistant"),
        9000: (True, False, "Home Assistant"),
    }

    # Router reboot: miniupnpd restarts with an empty table; the poll re-adds ours, because
    # the router's uptime says it restarted since our mappings were last seen (a mapping
    # that vanishes from a router that kept running is asked about instead:
    # test_hostile_lan.py). Whole seconds of uptime: let more than the slack pass first.
    await asyncio.sleep(UPTIME_SLACK + 1)
    await _executor(hass, router.stop_miniupnpd)
    # A reboot loses the kernel's rules and miniupnpd's lease file alike.
    router.run("sh", "/etc/miniupnpd/nft_flush.sh", "-f", str(router.conf_path))
    (lan.workdir / "router-miniupnpd.leases").unlink(missing_ok=True)
    # Uptime of the daemon, not of the (never rebooted) test machine.
    await _executor(hass, lambda: router.start_miniupnpd(extra_options={"system_uptime": "no"}))
    # No check that the table is empty here: the restarted daemon's announcements may
    # already have made Home Assistant re-add ours (CI saw it); the rules and the lease
    # file are gone, so the mappings below were re-added.
    async_fire_time_changed(hass, dt_util.utcnow() + UPDATE_INTERVAL + timedelta(seconds=1))
    # The poll runs as a background task, possibly queued behind an event-driven refresh.
    await hass.async_block_till_done(wait_background_tasks=True)
    rows = await _executor(hass, upnpc_mappings, other, router)
    assert {row["external_port"] for row in rows} == {8443, 9000}
    assert "dport 8443" in router.nft_ruleset()

    # Removing ours through the action ends ownership: it is not re-added.
    response = await async_remove_port_mapping(
        hass, {"external_port": 8443, "protocol": "TCP"}, response=True
    )
    assert response == {"result": "deleted"}
    await entry.runtime_data.coordinator.async_refresh()
    rows = await _executor(hass, upnpc_mappings, other, router)
    assert {row["external_port"] for row in rows} == {9000}


async def test_repair_flows_remove_and_allow(
    ha_host: Host,
    lan: Lan,
    router: Router,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    infected = lan.add_host("infected")
    upnpc_add(infected, router, 4444, description="backdoor")
    upnpc_add(infected, router, 25565, description="Minecraft")
    assert await async_setup_component(hass, "repairs", {})
    entry = await async_setup_router(hass, router)
    issues = ir.async_get(hass)
    by_port = {
        issue.translation_placeholders["external_port"]: issue_id
        for (domain, issue_id), issue in issues.issues.items()
        if domain == DOMAIN and issue.translation_key == "port_mapping_policy"
    }
    assert set(by_port) == {"4444", "25565"}
    manager = repairs_flow_manager(hass)
    assert manager is not None

    result = await manager.async_init(DOMAIN, data={"issue_id": by_port["4444"]})
    assert result["type"] == "menu"
    assert result["menu_options"] == ["remove", "allow"]
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "remove"})
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"

    result = await manager.async_init(DOMAIN, data={"issue_id": by_port["25565"]})
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "allow"})
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()

    assert entry.options[CONF_ALLOW_RULES] == [f"{infected.ip} 25565 TCP"]
    rows = await _executor(hass, upnpc_mappings, infected, router)
    assert {row["external_port"] for row in rows} == {25565}
    assert not [
        issue_id
        for (domain, issue_id), issue in issues.issues.items()
        if domain == DOMAIN and issue.translation_key == "port_mapping_policy"
    ]
    assert (
        hass.states.get("sensor.upnp_guard_test_router_port_mappings_breaking_the_policy").state
        == "0"
    )


async def test_deleted_entry_forgets_its_store_and_leased_mappings_run_out(
    ha_host: Host,
    lan: Lan,
    router: Router,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    """What README's "Remove" promises: the entry's stored state goes, and a mapping it
    added stays on the router only until its lease ends."""
    other = lan.add_host("laptop")
    entry = await async_setup_router(hass, router)
    await async_add_port_mapping(
        hass, {"external_port": 8444, "protocol": "TCP", "lease_duration": 600}
    )
    # Unloading keeps what the entry owns (a reload or restart picks it up again).
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = await router_store(hass, entry.entry_id).async_load()
    assert stored is not None
    assert [owned["external_port"] for owned in stored["owned"]] == [8444]

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert await router_store(hass, entry.entry_id).async_load() is None
    row = _row(await _executor(hass, upnpc_mappings, other, router), 8444)
    assert row is not None
    assert 0 < row["lease"] <= 600  # type: ignore[operator]
