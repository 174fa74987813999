"""Findings as users see them: repair placeholders inert in markdown, one event per new
finding, issues gone with their findings; the fix flow's link only to the device itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.upnp_guard.audit.checks import make_finding
from custom_components.upnp_guard.audit.const import (
    EVENT_AUDIT_FINDING,
    Category,
    CheckId,
    Severity,
)
from custom_components.upnp_guard.audit.inventory import InventoryDevice
from custom_components.upnp_guard.audit.publish import FindingPublisher, issue_id
from custom_components.upnp_guard.audit.repairs import device_page
from custom_components.upnp_guard.const import DOMAIN


def device(name: str = "Lamp", **fields: str) -> InventoryDevice:
    values = {
        "udn": "uuid:x",
        "address": "10.0.0.5",
        "location": "http://10.0.0.5:80/d.xml",
        "friendly_name": name,
        **fields,
    }
    return InventoryDevice(**values, first_seen=datetime.now(UTC))  # type: ignore[arg-type]


def finding(name: str = "Lamp", udn: str = "uuid:x"):  # type: ignore[no-untyped-def]
    return make_finding(
        device(name, udn=udn),
        CheckId.LAN_HOST_CONFIG_SET,
        Severity.HIGH,
        Category.UNAUTHENTICATED_CONTROL,
        placeholders={"actions": "SetDNSServer"},
    )


async def test_hostile_name_is_inert_and_events_once(hass: HomeAssistant) -> None:
    events = async_capture_events(hass, EVENT_AUDIT_FINDING)
    publisher = FindingPublisher(hass, "entry")
    hostile = finding("[Update now](http://evil.example/) ![x](http://evil.example/b.png)")
    publisher.publish([hostile])
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(hostile))
    assert issue is not None
    assert issue.translation_key == "audit_ug_ctrl_002"
    name = issue.translation_placeholders["name"]
    assert name.startswith("`")  # a code span: no link, no image
    assert name.endswith("`")
    assert issue.severity is ir.IssueSeverity.ERROR
    # The id is ours, whatever the UDN: only [a-z0-9_].
    weird = finding(udn="uuid:../../\n<script>")
    assert set(issue_id(weird)) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")

    publisher.publish([hostile])  # again: no new event
    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["check_id"] == "UG-CTRL-002"

    publisher.publish([])  # gone: its issue goes
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(hostile)) is None


@pytest.mark.parametrize(
    ("presentation", "page"),
    [
        ("/", "[10.0.0.5](http://10.0.0.5:80/)"),
        ("http://10.0.0.5/setup.html", "[10.0.0.5](http://10.0.0.5/setup.html)"),
        ("http://10.0.0.9/", "-"),  # another host
        ("http://evil.example/", "-"),
        ("javascript:alert(1)", "-"),
        ("http://10.0.0.5/a)[b](http://evil", "-"),  # would break out of the link
        ("", "-"),
    ],
)
def test_device_page_links_only_to_the_device(presentation: str, page: str) -> None:
    assert device_page(device(presentation_url=presentation)) == page
