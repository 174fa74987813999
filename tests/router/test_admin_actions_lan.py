"""Router actions that change what the internet reaches are for administrators only."""

from __future__ import annotations

import pytest
from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized

from tests.lan import Host, Lan

from .actions import async_add_port_mapping, async_list_port_mappings, async_remove_port_mapping
from .conftest import async_setup_router, upnpc_mappings

pytestmark = pytest.mark.lan


async def test_non_admin_cannot_add_or_remove_mappings(  # noqa: PLR0917
    ha_host: Host,
    lan: Lan,
    hass: HomeAssistant,
    hass_read_only_user: User,
    hass_admin_user: User,
    enable_custom_integrations: None,
) -> None:
    router = lan.add_router()
    # This router lets the LAN map to any internal port, SSH's included.
    router.start_miniupnpd(allow_rules=[f"allow 1024-65535 {lan.lan_net} 1-65535"])
    other = lan.add_host("laptop")
    await async_setup_router(hass, router)
    user = Context(user_id=hass_read_only_user.id)
    admin = Context(user_id=hass_admin_user.id)
    ssh = {"external_port": 2222, "internal_port": 22, "protocol": "TCP", "lease_duration": 600}

    # The attack: a non-admin user exposes Home Assistant's SSH port to the internet.
    with pytest.raises(Unauthorized):
        await async_add_port_mapping(hass, ssh, context=user)
    rows = await hass.async_add_executor_job(upnpc_mappings, other, router)
    assert rows == []

    # An administrator may; a non-admin user may then not take it away either.
    await async_add_port_mapping(hass, ssh, context=admin)
    remove = {"external_port": 2222, "protocol": "TCP"}
    with pytest.raises(Unauthorized):
        await async_remove_port_mapping(hass, remove, context=user)
    rows = await hass.async_add_executor_job(upnpc_mappings, other, router)
    assert [(row["external_port"], row["internal_port"]) for row in rows] == [(2222, 22)]

    # Reading the table stays open to every user; the system keeps working for the admin.
    listing = await async_list_port_mappings(hass, context=user)
    assert listing is not None
    assert [m["external_port"] for m in listing["port_mappings"]] == [2222]  # type: ignore[union-attr]
    response = await async_remove_port_mapping(hass, remove, response=True, context=admin)
    assert response == {"result": "deleted"}
    assert await hass.async_add_executor_job(upnpc_mappings, other, router) == []
