"""What a device's own description decides: its name in a repair, how many sensors it gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from markdown_it import MarkdownIt
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.appliance.agent_info import open_mode_issue_id
from custom_components.upnp_guard.appliance.const import AGENT_INFO, MAX_GENERIC_SENSORS
from custom_components.upnp_guard.const import DOMAIN, MAX_LAN_TEXT

from .conftest import FakeUpnpDevice, ServiceSpec, agent, dimmable_light, setup_device

STRINGS = json.loads(
    (Path(__file__).parents[2] / "custom_components/upnp_guard/strings.json").read_text()
)
PHISHING_NAME = "[Update required: log in](http://evil.example/login) ![](http://x/beacon)"


@pytest.mark.usefixtures("ssdp_hub", "socket_enabled", "enable_custom_integrations")
async def test_open_mode_repair_shows_a_hostile_friendly_name_as_text(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    spec = agent()
    spec.friendly_name = PHISHING_NAME
    device = FakeUpnpDevice(aioclient_mock, spec)
    device.state(spec.udn, AGENT_INFO).values.update(SecurityMode="open", Uptime="1")
    entry = await setup_device(hass, device)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, open_mode_issue_id(entry.entry_id))
    assert issue is not None
    name = (issue.translation_placeholders or {})["name"]
    description = STRINGS["issues"]["agent_open_mode"]["description"].replace("{name}", name)
    html = MarkdownIt("commonmark").render(description)
    assert "<a " not in html
    assert "<img" not in html
    assert "<code>[Update required: log in]" in html
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("ssdp_hub", "socket_enabled", "enable_custom_integrations")
async def test_generic_sensors_per_entry_are_capped(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = dimmable_light()
    over = MAX_GENERIC_SENSORS + 8
    spec.services.append(
        ServiceSpec(
            "urn:vendor-example-com:service:Many:1",
            "urn:vendor-example-com:serviceId:Many",
            {f"Reading{i:03d}": ("ui2", True, str(i)) for i in range(over)},
            {},
        )
    )
    entry = await setup_device(hass, FakeUpnpDevice(aioclient_mock, spec))
    generic = [
        entity
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if entity.domain == Platform.SENSOR and entity.translation_key == "state_variable"
    ]
    assert len(generic) == MAX_GENERIC_SENSORS
    assert f"more than {MAX_GENERIC_SENSORS} evented numeric variables" in caplog.text
    # The device itself keeps working.
    assert hass.states.get("light.hall_light") is not None
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("ssdp_hub", "socket_enabled", "enable_custom_integrations")
async def test_a_hostile_name_in_the_not_responding_error_is_cleaned_and_bounded(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    spec = dimmable_light()
    spec.friendly_name = "Hall\nlight\u202e\t" + "!" * 2000  # XML allows these
    device = FakeUpnpDevice(aioclient_mock, spec)
    entry = await setup_device(hass, device)
    (light,) = [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == Platform.LIGHT
    ]
    device.offline = True
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call("light", "turn_on", {"entity_id": light}, blocking=True)
    assert raised.value.translation_key == "device_not_responding"
    name = (raised.value.translation_placeholders or {})["name"]
    assert name.startswith("Hall light")
    assert "\n" not in name
    assert "\u202e" not in name
    assert len(name) <= MAX_LAN_TEXT
    # The entry keeps working once the device answers again.
    device.offline = False
    await hass.config_entries.async_unload(entry.entry_id)
