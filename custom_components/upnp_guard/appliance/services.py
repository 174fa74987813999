"""Actions (services) of appliance entries, registered once in async_setup."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the appliance actions."""
