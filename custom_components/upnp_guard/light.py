"""light platform: only appliance entries have lights (appliance/light.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .appliance import light as appliance_light
from .appliance.connection import ApplianceConfigEntry

# No platform-wide limit: appliance state is pushed by GENA and appliance actions queue per
# device in the connection (ApplianceConnection.control_lock).
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the appliance's lights (router entries do not forward this platform)."""
    await appliance_light.async_setup_entry(hass, entry, async_add_entities)
