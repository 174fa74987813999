"""The inventory's bounds: devices capped (least recently seen dropped), strings cleaned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from custom_components.upnp_guard.audit.inventory import Inventory
from custom_components.upnp_guard.const import MAX_LAN_TEXT

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def reply(n: int, st: str = "upnp:rootdevice", **extra: str) -> dict[str, str]:
    return {
        "st": st,
        "usn": f"uuid:dev-{n}::{st}",
        "location": f"http://10.0.0.{n % 250 + 2}:80/d.xml",
        "server": "Linux UPnP/1.0 Thing/1",
        "_host": f"10.0.0.{n % 250 + 2}",
        **extra,
    }


def test_devices_are_capped_oldest_dropped() -> None:
    inventory = Inventory(max_devices=3)
    for n in range(5):
        inventory.observe_headers(reply(n), T0 + timedelta(seconds=n))
    assert sorted(d.udn for d in inventory) == ["uuid:dev-2", "uuid:dev-3", "uuid:dev-4"]
    assert inventory.dropped == 2
    # Seen again, a device is the newest: the next one drops another.
    inventory.observe_headers(reply(2), T0 + timedelta(seconds=10))
    inventory.observe_headers(reply(9), T0 + timedelta(seconds=11))
    assert sorted(d.udn for d in inventory) == ["uuid:dev-2", "uuid:dev-4", "uuid:dev-9"]
    assert inventory.get("uuid:dev-2") is not None
    assert inventory.get("uuid:dev-2").first_seen == T0 + timedelta(seconds=2)  # type: ignore[union-attr]


def test_embedded_and_incomplete_replies_are_not_devices() -> None:
    inventory = Inventory()
    inventory.observe_headers(reply(1, st="urn:schemas-upnp-org:device:WANDevice:1"))
    inventory.observe_headers({**reply(2), "usn": "not-a-uuid"})
    inventory.observe_headers({**reply(3), "location": ""})
    assert len(inventory) == 0


def test_hostile_strings_are_cleaned_and_bounded() -> None:
    inventory = Inventory()
    inventory.observe_headers(reply(1, server="Evil\x1b[31m\r\nX-Injected: 1 " + "A" * 100_000))
    info = SsdpServiceInfo(
        ssdp_usn="uuid:dev-1::upnp:rootdevice",
        ssdp_st="upnp:rootdevice",
        ssdp_location="http://10.0.0.3:80/d.xml",
        upnp={"UDN": "uuid:dev-1", "friendlyName": "[click](http://x)\u202e" + "B" * 5000},
    )
    inventory.observe_ssdp(info)
    (device,) = list(inventory)
    assert "\x1b" not in device.server
    assert "\n" not in device.server
    assert len(device.server) == MAX_LAN_TEXT
    assert "\u202e" not in device.friendly_name
    assert len(device.friendly_name) == MAX_LAN_TEXT


def test_known_location_covers_embedded_announcements() -> None:
    # An embedded device announces its own UDN at the root's location: not a new device
    # (the audit's discovery trigger asks this before starting a run).
    inventory = Inventory()
    inventory.observe_headers(reply(1))
    assert inventory.knows_location("http://10.0.0.3:80/d.xml")
    assert not inventory.knows_location("http://10.0.0.4:80/d.xml")
