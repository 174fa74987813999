"""Binary sensors of a router: WAN connectivity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import RouterConfigEntry
from .entity import RouterEntity, RouterEntityDescription
from .models import RouterState


@dataclass(frozen=True, kw_only=True)
class RouterBinarySensorDescription(RouterEntityDescription, BinarySensorEntityDescription):
    """A router binary sensor."""

    value_fn: Callable[[RouterState], bool | None]


BINARY_SENSORS: tuple[RouterBinarySensorDescription, ...] = (
    RouterBinarySensorDescription(
        key="wan_connected",
        translation_key="wan_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        value_fn=lambda state: state.wan.connection_status == "Connected",
        exists_fn=lambda state: state.wan.connection_status is not None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RouterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors the router offers."""
    async_add_entities(RouterBinarySensor.offered(entry.runtime_data, *BINARY_SENSORS))


class RouterBinarySensor(RouterEntity, BinarySensorEntity):
    """A router binary sensor."""

    entity_description: RouterBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        return self.entity_description.value_fn(self.coordinator.data)
