"""Binary sensors of appliance entries: our agent's BinaryInput (buttons, contacts)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .connection import ApplianceConfigEntry
from .const import BINARY_INPUT
from .entity import UpnpEntityDescription, UpnpGuardEntity, offers, state_flag


@dataclass(frozen=True, kw_only=True)
class UpnpBinarySensorEntityDescription(UpnpEntityDescription, BinarySensorEntityDescription):
    """A binary sensor from a boolean state variable."""


INPUT_STATE = UpnpBinarySensorEntityDescription(
    key="input_state",
    translation_key="input_state",
    service_type=BINARY_INPUT,
    exists_fn=offers(BINARY_INPUT, "State"),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One binary sensor per input."""
    async_add_entities(UpnpInput.for_each_node(entry.runtime_data, INPUT_STATE))


class UpnpInput(UpnpGuardEntity, BinarySensorEntity):
    """On while the button is pressed or the contact closed."""

    entity_description: UpnpBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The evented State variable."""
        return state_flag(self.node, BINARY_INPUT, "State")
