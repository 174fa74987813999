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
from .entity import RouterEntity
from .models import RouterState


@dataclass(frozen=True, kw_only=True)
class RouterBinarySensorDescription(BinarySensorEntityDescription):
    """A router binary sensor."""

    value_fn: Callable[[RouterState], bool | None]
    exists_fn: Callable[[RouterState], bool] = lambda state: True


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
    data = entry.runtime_data
    async_add_entities(
        RouterBinarySensor(data, description)
        for description in BINARY_SENSORS
        if description.exists_fn(data.coordinator.data)
    )


class RouterBinarySensor(RouterEntity, BinarySensorEntity):
    """A router binary sensor."""

    entity_description: RouterBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        return self.entity_description.value_fn(self.coordinator.data)
