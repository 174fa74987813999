"""binary_sensor platform: both kinds have some (appliance/ and router/binary_sensor.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .appliance import binary_sensor as appliance_binary_sensor
from .router import binary_sensor as router_binary_sensor
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
    """Add the binary_sensors of the entry's kind."""
    if is_audit(entry):
        return  # the audit has no binary sensors
    if is_router(entry):
        await router_binary_sensor.async_setup_entry(hass, entry, async_add_entities)
    else:
        await appliance_binary_sensor.async_setup_entry(hass, entry, async_add_entities)
