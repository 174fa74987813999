"""What the diagnostics of both entry kinds report alike: the entry's stored settings and
what a device says it is (appliance/ and router/diagnostics.py redact them, each its own way)."""

from __future__ import annotations

from typing import Any

from async_upnp_client.client import UpnpDevice
from homeassistant.config_entries import ConfigEntry


def entry_settings[T](entry: ConfigEntry[T]) -> dict[str, Any]:
    """The entry's data and options as stored."""
    return {"data": dict(entry.data), "options": dict(entry.options)}


def device_identity(device: UpnpDevice) -> dict[str, Any]:
    """The device's identity from its description (the serial number to be redacted)."""
    return {
        "udn": device.udn,
        "device_type": device.device_type,
        "friendly_name": device.friendly_name,
        "manufacturer": device.manufacturer,
        "model_name": device.model_name,
        "model_number": device.model_number,
        "serial_number": device.serial_number,
    }
