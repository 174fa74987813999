"""`upnp_guard.audit_report`: the audit's report as response data (optionally after a
fresh run)."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from ..const import CONF_KIND, DOMAIN, EntryKind
from .const import SERVICE_AUDIT_REPORT
from .coordinator import AuditCoordinator

ATTR_REFRESH = "refresh"

SCHEMA = vol.Schema({vol.Optional(ATTR_REFRESH, default=False): cv.boolean})


def _coordinator(hass: HomeAssistant) -> AuditCoordinator:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_KIND) == EntryKind.AUDIT and entry.state is ConfigEntryState.LOADED:
            coordinator: AuditCoordinator = entry.runtime_data.coordinator
            return coordinator
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="audit_not_loaded")


async def _async_report(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass)
    if call.data[ATTR_REFRESH]:
        await coordinator.async_refresh()
    report: dict[str, Any] = coordinator.data.as_dict()
    return report


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the audit's action."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_AUDIT_REPORT,
        _async_report,
        schema=SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
