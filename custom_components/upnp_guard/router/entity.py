"""Base entity of router entries."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .coordinator import RouterCoordinator
from .data import RouterData


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
