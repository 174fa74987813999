"""sensor platform: both kinds have sensors (appliance/sensor.py, router/sensor.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .appliance import sensor as appliance_sensor
from .audit import sensor as audit_sensor
from .router import sensor as router_sensor
from .runtime import UpnpGuardConfigEntry, is_audit, is_router

# No platform-wide limit: appliance state is pushed by GENA and appliance actions queue per
# device in the connection (ApplianceConnection.control_lock); router entities read
# through their coordinator.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: UpnpGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of the entry's kind."""
    if is_audit(entry):
        await audit_sensor.async_setup_entry(hass, entry, async_add_entities)
    elif is_router(entry):
        await router_sensor.async_setup_entry(hass, entry, async_add_entities)
    else:
        await appliance_sensor.async_setup_entry(hass, entry, async_add_entities)
