"""`upnp_guard.audit_report` without a loaded audit entry: a documented error."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from custom_components.upnp_guard.audit.services import async_setup_services
from custom_components.upnp_guard.const import DOMAIN


async def test_report_without_audit_entry(hass: HomeAssistant) -> None:
    async_setup_services(hass)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "audit_report", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "audit_not_loaded"
