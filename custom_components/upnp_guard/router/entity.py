"""Base entity of router entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .coordinator import RouterCoordinator
from .data import RouterData
from .models import RouterState


@dataclass(frozen=True, kw_only=True)
class RouterEntityDescription(EntityDescription):
    """What a router entity reads; it exists only when the router offers it."""

    exists_fn: Callable[[RouterState], bool] = lambda state: True


class RouterEntity(CoordinatorEntity[RouterCoordinator]):
    """An entity of one router device; unique id = router UDN + description key.

    Built from the entry's runtime data: the device (and so the id) is the one the entry
    connected to, read once here.
    """

    _attr_has_entity_name = True

    def __init__(self, data: RouterData, description: EntityDescription) -> None:
        super().__init__(data.coordinator)
        self.entity_description = description
        udn = data.device.udn
        self._attr_unique_id = f"{udn}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, udn)})

    @classmethod
    def offered(cls, data: RouterData, *descriptions: RouterEntityDescription) -> list[Self]:
        """One entity per description whose value the router offers (by its first poll)."""
        return [
            cls(data, description)
            for description in descriptions
            if description.exists_fn(data.coordinator.data)
        ]
