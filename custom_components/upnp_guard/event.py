"""event platform: only appliance entries have events (appliance/event.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .appliance import event as appliance_event
from .appliance.connection import ApplianceConfigEntry

# No platform-wide limit: appliance state is pushed by GENA and appliance actions queue per
# device in the connection (ApplianceConnection.control_lock).
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the appliance's events (router entries do not forward this platform)."""
    await appliance_event.async_setup_entry(hass, entry, async_add_entities)
