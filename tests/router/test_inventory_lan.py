"""Inventory of large tables: 500 mappings listed completely (IGD:2), and IGD:1's index walk."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant

from tests.lan import Host, Lan

from .actions import async_list_port_mappings
from .bulk_leases import description, expected_mappings, start_router_with_leases
from .conftest import async_setup_router, upnpc_add, upnpc_mappings

pytestmark = pytest.mark.lan

FIRST_PORT = 20000


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    ("igd_v1", "count"),
    # IGD:1 has only the index walk, one request per mapping; against miniupnpd's
    # nftables backend each request costs O(table) (see bulk_leases.py), so its walk is
    # checked on a smaller table; the 500-entry table is read through GetListOfPortMappings.
    [(False, 500), (True, 40)],
    ids=["igd2-500", "igd1-40"],
)
async def test_large_table_listed_completely_and_correctly(  # noqa: PLR0917
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    enable_custom_integrations: None,
    igd_v1: bool,
    count: int,
) -> None:
    bulk = lan.add_host("bulk")
    router = await hass.async_add_executor_job(
        lambda: start_router_with_leases(lan, bulk, FIRST_PORT, count, igd_v1=igd_v1)
    )
    # Two more made the ordinary way, over UPnP, by another host.
    other = lan.add_host("other")
    await hass.async_add_executor_job(upnpc_add, other, router, 30000)
    await hass.async_add_executor_job(lambda: upnpc_add(other, router, 30001, "UDP"))
    expected = expected_mappings(FIRST_PORT, count) | {(30000, "TCP"), (30001, "UDP")}
    reference = await hass.async_add_executor_job(
        lambda: upnpc_mappings(bulk, router, flag="-l" if igd_v1 else "-L")
    )
    assert {(row["external_port"], row["protocol"]) for row in reference} == expected

    entry = await async_setup_router(hass, router)
    assert entry.runtime_data.coordinator.client.has_port_listing is not igd_v1
    response = await async_list_port_mappings(hass)
    assert response is not None
    listed = response["port_mappings"]
    assert len(listed) == len(expected)  # type: ignore[arg-type]
    assert {(m["external_port"], m["protocol"]) for m in listed} == expected  # type: ignore[union-attr]
    for mapping in listed:  # type: ignore[union-attr]
        port, protocol = mapping["external_port"], mapping["protocol"]
        assert mapping["internal_port"] == port
        assert 0 < mapping["lease_remaining"] <= 3600
        if port < 30000:
            assert mapping["internal_client"] == bulk.ip
            assert mapping["description"] == description(port, protocol)
        else:
            assert mapping["internal_client"] == other.ip
            assert mapping["description"] == "libminiupnpc"
    assert hass.states.get("sensor.upnp_guard_test_router_port_mappings").state == str(
        len(expected)
    )
