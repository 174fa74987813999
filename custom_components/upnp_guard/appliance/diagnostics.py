"""Diagnostics of an appliance entry, with secrets and callback URLs redacted.

Control and event URLs carry our agent's random per-device path component (a capability:
whoever knows it can aim requests at the device), and our own GENA callback URL says
where Home Assistant listens; neither belongs in a file users paste into issues.
"""

from __future__ import annotations

from typing import Any

from async_upnp_client.client import UpnpDevice
from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from ..const import CONF_LOCATION
from ..diagnostics_parts import device_identity, entry_settings, not_loaded_report
from ..notify import notify_server_pool
from ..paired import paired_agents
from ..transport import device_requester
from .connection import ApplianceConfigEntry

TO_REDACT = {
    "control_url",
    "event_sub_url",
    "callback_url",
    "sid",
    "serial_number",
    "key",
    "secret",
}


def _device(node: UpnpDevice) -> dict[str, Any]:
    return {
        **device_identity(node),
        "services": [
            {
                "service_id": service.service_id,
                "service_type": service.service_type,
                "scpd_url": service.scpd_url,
                "control_url": service.control_url,
                "event_sub_url": service.event_sub_url,
                "actions": sorted(service.actions),
                "state_variables": {
                    name: variable.value
                    for name, variable in sorted(service.state_variables.items())
                    if variable.send_events or variable.value is not None
                },
            }
            for service in node.services.values()
        ],
        "embedded_devices": [_device(child) for child in node.embedded_devices.values()],
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ApplianceConfigEntry
) -> dict[str, Any]:
    """Entry data, the device tree with its state, and the subscriptions we hold (when
    not loaded, what is stored and why: there is no device tree)."""
    if (not_loaded := not_loaded_report(entry)) is not None:
        return async_redact_data(not_loaded, TO_REDACT)
    connection = entry.runtime_data
    data = {
        "entry": entry_settings(entry),
        "connection": {
            "available": connection.available,
            "push": connection.push,
            "boot_id": connection.boot_id,
            "callback_url": connection.event_handler.callback_url,
            "event_count": connection.event_count,
            "reconnect_count": connection.reconnect_count,
            "subscriptions": [
                {"sid": sub.sid, "service_id": sub.service.service_id}
                for sub in connection.subscriptions.values()
            ],
            "polled_services": [s.service_id for s in connection.polled_services],
        },
        "device": _device(connection.device),
        # Home Assistant-wide: what the device transport and notify servers refused.
        "transport": device_requester(hass).diagnostics(),
        "notify_drops": notify_server_pool(hass).diagnostics(),
    }
    if (agent := paired_agents(hass).for_url(entry.data[CONF_LOCATION])) is not None:
        # Paired mode: events refused per reason, and requests the agent refused.
        data["paired"] = {
            "rejected_events": dict(agent.rejected),
            "refused_requests": agent.requester.refusals,
        }
    return async_redact_data(data, TO_REDACT)
