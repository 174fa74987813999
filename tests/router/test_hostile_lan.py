"""Hostile LAN hosts against the router entry, on the real miniupnpd with upnpc.

A host may map ports to itself (secure mode allows it) with any description it likes;
miniupnpd writes that description raw into GetListOfPortMappings' CDATA and into
GetGenericPortMappingEntry's answer. The entry must keep auditing the whole table,
show the hostile rows flagged, and render every LAN string inert.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from markdown_it import MarkdownIt
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.upnp_guard.const import DOMAIN
from custom_components.upnp_guard.router.const import (
    EVENT_PORT_MAPPING,
    MAX_EVENTS_PER_REFRESH,
    MAX_POLICY_ISSUES,
)
from custom_components.upnp_guard.router.issues import (
    owned_missing_issue_id,
    policy_issue_id,
    table_issue_id,
)
from tests.lan import Host, Lan, Router

from .actions import async_add_port_mapping, async_list_port_mappings
from .bulk_leases import start_router_with_leases
from .conftest import async_setup_router, upnpc_add, upnpc_mappings

pytestmark = pytest.mark.lan

RDP = 3389
# `]]>` ends miniupnpd's CDATA early (the whole SOAP answer breaks) and is no
# well-formed character data in GetGenericPortMappingEntry's answer either.
CDATA_END = "]]>"
# miniupnpd's request parser honours CDATA: the description stored is `a&b<c>`, which
# breaks the listing's inner XML and the per-index answer alike.
RAW_MARKUP = "<![CDATA[a&b<c>]]>"


async def _list(hass: HomeAssistant) -> dict[int, dict[str, Any]]:
    response = await async_list_port_mappings(hass)
    assert response is not None
    return {m["external_port"]: m for m in response["port_mappings"]}  # type: ignore[union-attr,index]


async def _add(hass: HomeAssistant, host: Host, router: Router, port: int, **kwargs: Any) -> None:
    await hass.async_add_executor_job(lambda: upnpc_add(host, router, port, **kwargs))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("igd_v1", [False, True], ids=["igd2-listing", "igd1-walk"])
async def test_hostile_descriptions_do_not_blind_the_router_entry(
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    enable_custom_integrations: None,
    igd_v1: bool,
) -> None:
    router = lan.add_router()
    await hass.async_add_executor_job(
        lambda: router.start_miniupnpd(secure_mode=True, igd_v1=igd_v1)
    )
    attacker = lan.add_host("attacker")
    # The attacker's own RDP, exposed, hidden behind a description that breaks XML.
    await _add(hass, attacker, router, 13389, internal_port=RDP, description=CDATA_END)
    await _add(hass, attacker, router, 14000, description=RAW_MARKUP)
    await _add(hass, attacker, router, 15000, description="benign")

    # Setup succeeds: the table is read whatever the descriptions hold.
    entry = await async_setup_router(hass, router)
    coordinator = entry.runtime_data.coordinator
    rows = await _list(hass)
    assert set(rows) == {13389, 14000, 15000}
    rdp = rows[13389]
    assert (rdp["internal_client"], rdp["internal_port"]) == (attacker.ip, RDP)
    assert rdp["description"] == CDATA_END
    assert {"malformed_entry", "dangerous_service"} <= set(rdp["risk_flags"])
    assert rdp["violates_policy"]
    assert 0 < rdp["lease_remaining"] <= 3600
    assert rows[14000]["description"] == "a&b<c>"
    assert "malformed_entry" in rows[14000]["risk_flags"]
    assert "malformed_entry" not in rows[15000]["risk_flags"]
    # ... and reported: an ERROR repair for the hidden RDP, no unreadable-table issue
    # (every row was recovered).
    registry = ir.async_get(hass)
    issue = registry.async_get_issue(DOMAIN, policy_issue_id(entry.entry_id, ("", 13389, "TCP")))
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert registry.async_get_issue(DOMAIN, table_issue_id(entry.entry_id)) is None

    # A later poll: a new hostile row appears and is audited, the poll does not fail.
    await _add(hass, attacker, router, 16000, internal_port=RDP, description=f"x{CDATA_END}y")
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    rows = await _list(hass)
    assert set(rows) == {13389, 14000, 15000, 16000}
    assert rows[16000]["description"] == f"x{CDATA_END}y"
    assert (
        registry.async_get_issue(DOMAIN, policy_issue_id(entry.entry_id, ("", 16000, "TCP")))
        is not None
    )


STRINGS = json.loads(
    (Path(__file__).parents[2] / "custom_components/upnp_guard/strings.json").read_text()
)
RENDER = MarkdownIt("commonmark")
PHISHING = "[login](http://evil.example/login)"
BEACON = "![](http://x/beacon)"
FORGED_LINE = "ok\nERROR upnp_guard: all clear"
BACKTICKS = "a`b``c"


def _render(template: str, placeholders: dict[str, str]) -> str:
    text = template
    for name, value in placeholders.items():
        text = text.replace("{" + name + "}", value)
    return RENDER.render(text)


async def test_lan_strings_are_inert_in_repairs_events_and_logs(  # noqa: PLR0917
    ha_host: Host,
    lan: Lan,
    router: Router,
    hass: HomeAssistant,
    enable_custom_integrations: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    attacker = lan.add_host("attacker")
    # The DHCP host name Home Assistant's device tracker learnt: the owner of the rows.
    hass.states.async_set(
        "device_tracker.attacker", "home", {"ip": attacker.ip, "host_name": f"{BEACON}\nx"}
    )
    descriptions = {21000: PHISHING, 21001: BEACON, 21002: FORGED_LINE, 21003: BACKTICKS}
    for port, description in descriptions.items():
        await _add(hass, attacker, router, port, description=description)
    events = async_capture_events(hass, EVENT_PORT_MAPPING)
    entry = await async_setup_router(hass, router)

    registry = ir.async_get(hass)
    template = STRINGS["issues"]["port_mapping_policy"]["fix_flow"]["step"]["init"]
    title = STRINGS["issues"]["port_mapping_policy"]["title"]
    for port in descriptions:
        issue = registry.async_get_issue(DOMAIN, policy_issue_id(entry.entry_id, ("", port, "TCP")))
        assert issue is not None
        placeholders = issue.translation_placeholders or {}
        html = _render(template["description"], placeholders) + _render(title, placeholders)
        assert "<a " not in html
        assert "<img" not in html
        assert "\n" not in placeholders["description"]
        assert "\n" not in placeholders["owner"]
        # The text is still there for the user to read, as code.
        assert "<code>" in html
    # Backticks inside a description do not close the code span early.
    issue = registry.async_get_issue(DOMAIN, policy_issue_id(entry.entry_id, ("", 21003, "TCP")))
    assert issue is not None
    assert "<code>a`b``c</code>" in _render(
        template["description"], issue.translation_placeholders or {}
    )

    # Events: data for automations, so the text is kept but clean and single-line.
    by_port = {
        e.data["external_port"]: e.data for e in events if e.data["type"] == "policy_violation"
    }
    assert set(by_port) == set(descriptions)
    assert by_port[21002]["description"] == "ok ERROR upnp_guard: all clear"
    assert by_port[21000]["description"] == PHISHING
    assert by_port[21000]["owner"] == f"{BEACON} x"

    # Logs: no record of the integration carries a raw line break or escape.
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="custom_components.upnp_guard"):
        await _add(hass, attacker, router, 21004, description="]]>\n\x1b[2J")
        await entry.runtime_data.coordinator.async_refresh()
    ours = [r for r in caplog.records if r.name.startswith("custom_components.upnp_guard")]
    # The row's description is in the log, escaped.
    assert any("]]>\\x0a\\x1b[2J" in r.getMessage() for r in ours)
    for record in ours:
        message = record.getMessage()
        assert "\n" not in message
        assert "\x1b" not in message


async def test_a_flood_of_mappings_gets_bounded_issues_and_events(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    bulk = lan.add_host("bulk")
    count = MAX_POLICY_ISSUES + 5
    assert count > MAX_EVENTS_PER_REFRESH
    router = await hass.async_add_executor_job(
        lambda: start_router_with_leases(lan, bulk, 22000, count)
    )
    events = async_capture_events(hass, EVENT_PORT_MAPPING)
    entry = await async_setup_router(hass, router)
    registry = ir.async_get(hass)

    def ours(key: str) -> list[ir.IssueEntry]:
        return [
            issue
            for (domain, _id), issue in registry.issues.items()
            if domain == DOMAIN and issue.translation_key == key
        ]

    assert len(ours("port_mapping_policy")) == MAX_POLICY_ISSUES
    (summary,) = ours("port_mapping_policy_summary")
    assert summary.translation_placeholders == {
        "router": "Test router",
        "count": str(count - MAX_POLICY_ISSUES),
        "limit": str(MAX_POLICY_ISSUES),
    }
    violations = [e for e in events if e.data["type"] == "policy_violation"]
    suppressed = [e for e in events if e.data["type"] == "events_suppressed"]
    assert len(violations) == MAX_EVENTS_PER_REFRESH
    assert [e.data["count"] for e in suppressed] == [count - MAX_EVENTS_PER_REFRESH]
    # Nothing is lost: every mapping is listed and counted as a violation.
    response = await async_list_port_mappings(hass)
    assert response is not None
    assert len(response["port_mappings"]) == count  # type: ignore[arg-type]
    assert hass.states.get(
        "sensor.upnp_guard_test_router_port_mappings_breaking_the_policy"
    ).state == str(count)

    # The next poll announces nothing again.
    events.clear()
    await entry.runtime_data.coordinator.async_refresh()
    assert events == []
    assert len(ours("port_mapping_policy")) == MAX_POLICY_ISSUES


async def test_an_owned_mapping_deleted_on_the_router_is_not_readded_unasked(
    ha_host: Host,
    router: Router,
    hass: HomeAssistant,
    enable_custom_integrations: None,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    entry = await async_setup_router(hass, router)
    coordinator = entry.runtime_data.coordinator
    manager = repairs_flow_manager(hass)
    assert manager is not None
    registry = ir.async_get(hass)
    key = ("", 8443, "TCP")
    issue_id = owned_missing_issue_id(entry.entry_id, key)

    async def add() -> None:
        await async_add_port_mapping(
            hass, {"external_port": 8443, "protocol": "TCP", "lease_duration": 60}
        )

    async def delete_on_router() -> None:
        # What the router's own interface does: the mapping goes, the router keeps running.
        await hass.async_add_executor_job(
            lambda: ha_host.run("upnpc", "-u", router.description_url, "-d", "8443", "TCP")
        )

    async def on_router() -> bool:
        rows = await hass.async_add_executor_job(upnpc_mappings, ha_host, router)
        return any(row["external_port"] == 8443 for row in rows)

    await add()
    await delete_on_router()
    # Neither the renewal (at half the lease) nor the poll adds it back.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done(wait_background_tasks=True)
    await coordinator.async_refresh()
    assert not await on_router()
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

    # The user says: add it back.
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["menu_options"] == ["readd", "forget"]
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "readd"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert await on_router()
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    assert key in coordinator.owned

    # Deleted again; this time the user says: forget it.
    await delete_on_router()
    await coordinator.async_refresh()
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "forget"})
    assert result["type"] == "create_entry"
    assert key not in coordinator.owned
    await coordinator.async_refresh()
    assert not await on_router()
    assert registry.async_get_issue(DOMAIN, issue_id) is None
