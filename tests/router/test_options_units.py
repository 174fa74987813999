"""The router options flow without a LAN: enforce mode on an entry whose router was
never read still asks first, and says it cannot tell what would be removed."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_component

from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_UDN,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
)
from custom_components.upnp_guard.router.const import (
    CONF_ADD_CLIENTS,
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
    MODE_ENFORCE,
    MODE_MONITOR,
)


@pytest.mark.usefixtures("enable_custom_integrations")
async def test_enforce_on_an_unread_router_asks_and_says_it_cannot_tell(
    hass: HomeAssistant,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
        unique_id="uuid:router",
        data={
            CONF_KIND: "router",
            CONF_LOCATION: "http://192.168.1.1:5000/rootDesc.xml",
            CONF_UDN: "uuid:router",
            CONF_DEVICE_TYPE: "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
        },
    )
    entry.add_to_hass(hass)  # not set up: the router was never read
    for dependency in ("network", "ssdp"):  # counted as set up: no socket is opened
        mock_component(hass, dependency)
    policy = {CONF_GRACE_PERIOD: 300, CONF_ALLOW_RULES: [], CONF_ADD_CLIENTS: []}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**policy, CONF_MODE: MODE_ENFORCE}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "enforce"
    assert result["description_placeholders"] == {
        "count": "?",
        "mappings": "?",
        "grace_period": "300",
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_MODE] == MODE_ENFORCE
    # Monitor mode needs no confirmation.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**policy, CONF_MODE: MODE_MONITOR}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_MODE] == MODE_MONITOR
