"""update platform: a paired agent's firmware (appliance/update.py)."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .appliance import update as appliance_update
from .appliance.connection import ApplianceConfigEntry

# One install at a time per entity; its requests queue on the agent's connection
# (ApplianceConnection.control_lock) like every other action.
PARALLEL_UPDATES = 0
# The bundle directory is read again this often: a new build shows up by itself.
SCAN_INTERVAL = timedelta(minutes=1)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the agent's update entity (router and audit entries do not forward this)."""
    await appliance_update.async_setup_entry(hass, entry, async_add_entities)
