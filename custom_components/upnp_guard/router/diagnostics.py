"""Diagnostics of a router entry: the device, the audited mapping table, WAN status, the
policy and the GENA subscriptions, with what identifies the household redacted.

Redacted: the external (WAN) address and remote hosts (they locate the home on the
internet), DNS servers (often the ISP's), the host names behind internal clients (the
`owner` of a mapping comes from device trackers), serial numbers and UDNs (routers build
them from their MAC address), SIDs, and any MAC address anywhere in a string from the
router (friendly names and descriptions are the router's to choose). Internal client
addresses stay: they are private and the policy is about them.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from ..const import CONF_UDN
from ..diagnostics_parts import device_identity, entry_settings, not_loaded_report
from .data import RouterConfigEntry

TO_REDACT = {
    CONF_UDN,
    "external_ip",
    "remote_host",
    "dns_servers",
    "dns_baseline",
    "owner",
    "host_name",
    "serial_number",
    "sid",
    "mac",
}

# Six hex pairs joined by ":" or "-" (EUI-48, as routers print MAC addresses).
MAC_ADDRESS = re.compile(r"\b[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}\b")
MAC_REDACTED = "**MAC**"


def _mask_macs(value: Any) -> Any:
    if isinstance(value, str):
        return MAC_ADDRESS.sub(MAC_REDACTED, value)
    if isinstance(value, dict):
        return {key: _mask_macs(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_macs(item) for item in value]
    return value


def _redacted(data: dict[str, Any]) -> dict[str, Any]:
    redacted: dict[str, Any] = _mask_macs(async_redact_data(data, TO_REDACT))
    return redacted


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: RouterConfigEntry
) -> dict[str, Any]:
    """Entry data and policy, the router as described, what the last poll saw."""
    if (not_loaded := not_loaded_report(entry)) is not None:
        return _redacted(not_loaded)
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    client = coordinator.client
    device = runtime.device
    state = coordinator.data
    data = {
        "entry": entry_settings(entry),
        "device": {
            **device_identity(device),
            "services": sorted(service.service_type for service in device.all_services),
            "connection_service": client.connection.service_type,
            "port_listing": client.has_port_listing,
            "range_delete": client.has_range_delete,
            "dns_servers_readable": client.has_dns_servers,
        },
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "last_exception": repr(coordinator.last_exception)
            if coordinator.last_exception
            else None,
            "update_interval": coordinator.update_interval.total_seconds()
            if coordinator.update_interval
            else None,
        },
        "wan": asdict(state.wan),
        "download_rate": state.download_rate,
        "upload_rate": state.upload_rate,
        "dns_servers": state.dns_servers,
        "dns_baseline": coordinator.dns_baseline,
        # In key order (not the router's), so two downloads compare line by line.
        "port_mappings": [
            report.as_dict()
            for report in sorted(state.reports, key=lambda report: report.mapping.key)
        ],
        "owned": [owned.as_dict() for owned in coordinator.owned.values()],
        "events": {
            "event_count": runtime.events.event_count,
            "subscriptions": [
                {"sid": sid, "service_id": subscription.service.service_id}
                for sid, subscription in runtime.events.subscriptions.items()
            ],
        },
    }
    return _redacted(data)
