"""Router entries without a LAN or root: the fake IGD of tests/fakes/igd.py.

The `*_lan` tests run the same integration against the real miniupnpd end to end; these
run everywhere and pin the entities, the audit, actions and events.
"""

from __future__ import annotations

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from syrupy.assertion import SnapshotAssertion

from custom_components.upnp_guard.const import DOMAIN
from custom_components.upnp_guard.router.const import (
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
    ERR_CONFLICT,
    ERR_NOT_AUTHORIZED,
    EVENT_PORT_MAPPING,
    MAX_POLICY_ISSUES,
    MODE_ENFORCE,
)
from custom_components.upnp_guard.router.issues import (
    RouterIssue,
    issue_id,
    issue_of,
    manual_issue_id,
    policy_issue_id,
    summary_issue_id,
)
from custom_components.upnp_guard.router.models import RemovalResult
from tests.fakes.igd import FakeIgd, Row

from .actions import async_add_port_mapping, async_remove_port_mapping
from .conftest import async_setup_fake_router


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's serializer: registry ids and times are left out, as in core."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "socket_enabled")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_router_platform_snapshot(  # noqa: PLR0917
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    enable_custom_integrations: None,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    fake_igd.add_row(Row(4445, "TCP", "10.0.0.11", 445, description="smb"))
    fake_igd.add_row(Row(8080, "TCP", "10.0.0.12", 80))
    from unittest.mock import patch  # noqa: PLC0415

    with patch("custom_components.upnp_guard.router.PLATFORMS", [platform]):
        entry = await async_setup_fake_router(hass, fake_igd)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


SMB = Row(4445, "TCP", "10.0.0.11", 445, description="smb")
MAPPINGS = "sensor.fake_router_port_mappings"


def _count(hass: HomeAssistant) -> str:
    state = hass.states.get(MAPPINGS)
    assert state is not None
    return state.state


async def test_an_evented_mapping_count_refreshes_the_inventory(
    hass: HomeAssistant, fake_igd: FakeIgd, init_fake_router: MockConfigEntry
) -> None:
    """A NOTIFY with a new PortMappingNumberOfEntries makes the coordinator list the
    table again, without waiting for the poll."""
    assert _count(hass) == "0"
    fake_igd.pending.clear()
    fake_igd.add_row(SMB)
    assert await fake_igd.send_events() == 1
    await hass.async_block_till_done()
    assert _count(hass) == "1"
    assert init_fake_router.runtime_data.events.event_count == 1


@pytest.mark.usefixtures("init_fake_router")
async def test_add_and_remove_actions_change_the_router_table(
    hass: HomeAssistant, fake_igd: FakeIgd
) -> None:
    added = await async_add_port_mapping(
        hass, {"external_port": 8443, "protocol": "TCP", "lease_duration": 600}, response=True
    )
    assert added is not None
    assert added["lease_granted"] == 600
    [row] = fake_igd.rows
    assert (row.external_port, row.protocol, row.lease) == (8443, "TCP", 600)
    assert row.internal_client == added["internal_client"]
    assert _count(hass) == "1"

    removed = await async_remove_port_mapping(
        hass, {"external_port": 8443, "protocol": "TCP"}, response=True
    )
    assert removed == {"result": RemovalResult.DELETED.value}
    assert fake_igd.rows == []
    assert _count(hass) == "0"


async def test_removal_ladder_ends_with_a_repair_issue(
    hass: HomeAssistant,
    fake_igd: FakeIgd,
    init_fake_router: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Refused DeletePortMapping (secure mode): the range delete removes it; both
    refused: the user is asked, in a repair issue, to remove it on the router."""
    fake_igd.add_row(SMB)
    fake_igd.add_row(Row(4446, "TCP", "10.0.0.11", 446))
    fake_igd.refuse["DeletePortMapping"] = ERR_NOT_AUTHORIZED
    coordinator = init_fake_router.runtime_data.coordinator
    assert await coordinator.async_remove(SMB.key) is RemovalResult.RANGE_DELETED
    assert [row.external_port for row in fake_igd.rows] == [4446]

    fake_igd.refuse["DeletePortMappingRange"] = ERR_NOT_AUTHORIZED
    assert await coordinator.async_remove(("", 4446, "TCP")) is RemovalResult.MANUAL
    assert [row.external_port for row in fake_igd.rows] == [4446]
    issue = issue_registry.async_get_issue(
        DOMAIN, manual_issue_id(init_fake_router.entry_id, ("", 4446, "TCP"))
    )
    assert issue is not None
    assert issue.translation_key == RouterIssue.MANUAL_REMOVAL
    assert not issue.is_fixable


@pytest.mark.parametrize(
    ("code", "translation_key"),
    [
        (ERR_CONFLICT, "router_mapping_conflict"),
        (ERR_NOT_AUTHORIZED, "router_not_authorized"),
        (501, "router_action_failed"),
    ],
)
@pytest.mark.usefixtures("init_fake_router")
async def test_a_refused_action_is_a_translated_error(
    hass: HomeAssistant, fake_igd: FakeIgd, code: int, translation_key: str
) -> None:
    fake_igd.refuse["AddPortMapping"] = code
    with pytest.raises(HomeAssistantError) as raised:
        await async_add_port_mapping(
            hass, {"external_port": 8443, "protocol": "TCP", "lease_duration": 600}
        )
    assert raised.value.translation_key == translation_key
    assert fake_igd.rows == []
    # The router keeps working for the next call.
    fake_igd.refuse.clear()
    await async_add_port_mapping(
        hass, {"external_port": 8443, "protocol": "TCP", "lease_duration": 600}
    )
    assert len(fake_igd.rows) == 1


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_violations_raise_fixable_issues_and_one_event_each(
    hass: HomeAssistant, fake_igd: FakeIgd, issue_registry: ir.IssueRegistry
) -> None:
    fake_igd.add_row(SMB)
    events = async_capture_events(hass, EVENT_PORT_MAPPING)
    entry = await async_setup_fake_router(hass, fake_igd)
    issue_id = policy_issue_id(entry.entry_id, SMB.key)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == RouterIssue.POLICY
    assert issue.data == {"entry_id": entry.entry_id, "mapping": "tcp_4445_any"}
    assert [e.data["type"] for e in events] == ["policy_violation"]

    fake_igd.rows.clear()
    await entry.runtime_data.coordinator.async_refresh()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_enforce_mode_removes_a_violation_past_its_grace_period(
    hass: HomeAssistant, fake_igd: FakeIgd
) -> None:
    fake_igd.add_row(SMB)
    fake_igd.add_row(Row(8080, "TCP", "10.0.0.12", 80))
    events = async_capture_events(hass, EVENT_PORT_MAPPING)
    await async_setup_fake_router(
        hass,
        fake_igd,
        {CONF_MODE: MODE_ENFORCE, CONF_GRACE_PERIOD: 0, CONF_ALLOW_RULES: ["10.0.0.12 8080 TCP"]},
    )
    assert [row.external_port for row in fake_igd.rows] == [8080]
    assert [e.data["type"] for e in events] == ["policy_violation", "removed"]
    assert _count(hass) == "1"


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_an_igd1_router_is_walked_by_index(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    igd1 = FakeIgd(aioclient_mock, igd_v1=True)
    for port in (5000, 5001, 5002):
        igd1.add_row(Row(port, "UDP", "10.0.0.20", port))
    await async_setup_fake_router(hass, igd1)
    assert _count(hass) == "3"
    calls = [name for name, _args in igd1.calls]
    assert "GetListOfPortMappings" not in calls
    # Three rows, then the index past the end (713) ends the walk.
    assert calls.count("GetGenericPortMappingEntry") == 4


@pytest.mark.parametrize("issue", list(RouterIssue))
def test_every_issue_id_routes_back_to_its_issue(issue: RouterIssue) -> None:
    key = ("", 4445, "TCP")
    for entry_id in ("01JENTRY", "policy"):
        assert issue_of(issue_id(issue, entry_id)) is issue
        assert issue_of(issue_id(issue, entry_id, key)) is issue
    assert issue_of("something_else_01JENTRY") is None


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_violations_past_the_issue_cap_share_a_summary_and_are_announced_once(
    hass: HomeAssistant, fake_igd: FakeIgd, issue_registry: ir.IssueRegistry
) -> None:
    extra = 2
    for index in range(MAX_POLICY_ISSUES + extra):
        fake_igd.add_row(Row(20000 + index, "TCP", "10.0.0.11", 20000 + index))
    events = async_capture_events(hass, EVENT_PORT_MAPPING)
    entry = await async_setup_fake_router(hass, fake_igd)
    summary = issue_registry.async_get_issue(DOMAIN, summary_issue_id(entry.entry_id))
    assert summary is not None
    assert summary.translation_placeholders is not None
    assert summary.translation_placeholders["count"] == str(extra)
    announced = len(events)
    assert announced > 0
    # The next poll finds the same violations: nothing is announced again.
    await entry.runtime_data.coordinator.async_refresh()
    assert len(events) == announced


@pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")
async def test_entities_exist_only_for_what_the_first_poll_read(
    hass: HomeAssistant, fake_igd: FakeIgd, entity_registry: er.EntityRegistry
) -> None:
    """A router that refuses the WAN status and a byte counter on the first poll gets no
    entities for them (RouterEntityDescription.exists_fn); the rest are there, and a
    router that answers later adds none behind the user's back."""
    for action in ("GetStatusInfo", "GetExternalIPAddress", "GetTotalBytesReceived"):
        fake_igd.refuse[action] = 401
    entry = await async_setup_fake_router(hass, fake_igd)
    udn = fake_igd.spec.udn
    keys = {
        entity.unique_id
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert keys == {
        f"{udn}_{key}"
        for key in ("bytes_sent", "upload_rate", "port_mappings", "policy_violations")
    }
    fake_igd.refuse.clear()
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert {
        entity.unique_id
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    } == keys
