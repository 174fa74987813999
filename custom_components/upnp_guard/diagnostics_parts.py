"""What the diagnostics of every entry kind report alike: the entry's stored settings and
what a device says it is (appliance/, router/ and audit/diagnostics.py redact the rest,
each its own way).

The entry's secrets are redacted here, whatever the kind: a key stored in an entry of a
kind that never expects one (a hand-edited or future entry) must not reach a file users
paste into issues because that kind's own list forgot it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from async_upnp_client.client import UpnpDevice
from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry, ConfigEntryState

from .const import CONF_KEY

# What an entry may store that gives power over a device: a paired agent's key.
ENTRY_SECRETS: Final = frozenset({CONF_KEY})


def redacted_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data or options with the secrets (ENTRY_SECRETS) redacted, at any depth."""
    redacted: dict[str, Any] = async_redact_data(dict(settings), ENTRY_SECRETS)
    return redacted


def entry_settings[T](entry: ConfigEntry[T]) -> dict[str, Any]:
    """The entry's data and options as stored, secrets redacted."""
    return {"data": redacted_settings(entry.data), "options": redacted_settings(entry.options)}


# The path of a URL in a text (an error's message quotes the URL it failed on).
_URL_PATH = re.compile(r"(https?://[^/\s'\"<>]+)/[^\s'\"<>]*", re.IGNORECASE)
URL_PATH_REDACTED: Final = "/**REDACTED**"


def without_url_paths(text: str) -> str:
    """`text` with every URL cut to its scheme and host: an agent's control and event
    URLs carry its per-device token (a capability), and a failed SUBSCRIBE's error quotes
    the event URL."""
    return _URL_PATH.sub(lambda match: match.group(1) + URL_PATH_REDACTED, text)


def not_loaded_report[T](entry: ConfigEntry[T]) -> dict[str, Any] | None:
    """What an entry that is not loaded reports (why, and what is stored), None when it is
    loaded: diagnostics matter most when setup fails, and then there is no runtime data.
    The reason's URLs lose their paths (without_url_paths); the stored location is whole."""
    if entry.state is ConfigEntryState.LOADED:
        return None
    reason = None if entry.reason is None else without_url_paths(entry.reason)
    return {"entry": entry_settings(entry), "state": entry.state.value, "reason": reason}


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
