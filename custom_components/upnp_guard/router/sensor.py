"""Sensors of a router: WAN address and traffic, mapping and policy-violation counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfDataRate, UnitOfInformation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .data import RouterConfigEntry
from .entity import RouterEntity, RouterEntityDescription
from .models import RouterState


@dataclass(frozen=True, kw_only=True)
class RouterSensorDescription(RouterEntityDescription, SensorEntityDescription):
    """A router sensor: where its value comes from."""

    value_fn: Callable[[RouterState], StateType]


SENSORS: tuple[RouterSensorDescription, ...] = (
    RouterSensorDescription(
        key="external_ip",
        translation_key="external_ip",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.wan.external_ip,
        exists_fn=lambda state: state.wan.external_ip is not None,
    ),
    RouterSensorDescription(
        key="bytes_received",
        translation_key="bytes_received",
        # Traffic figures change at every poll and fill the recorder: like the generic
        # appliance sensors they start disabled (entity-disabled-by-default).
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda state: state.wan.bytes_received,
        exists_fn=lambda state: state.wan.bytes_received is not None,
    ),
    RouterSensorDescription(
        key="bytes_sent",
        translation_key="bytes_sent",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda state: state.wan.bytes_sent,
        exists_fn=lambda state: state.wan.bytes_sent is not None,
    ),
    RouterSensorDescription(
        key="download_rate",
        translation_key="download_rate",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.download_rate,
        exists_fn=lambda state: state.wan.bytes_received is not None,
    ),
    RouterSensorDescription(
        key="upload_rate",
        translation_key="upload_rate",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.upload_rate,
        exists_fn=lambda state: state.wan.bytes_sent is not None,
    ),
    RouterSensorDescription(
        key="port_mappings",
        translation_key="port_mappings",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: len(state.reports),
    ),
    RouterSensorDescription(
        key="policy_violations",
        translation_key="policy_violations",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: len(state.violations),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RouterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the router offers."""
    async_add_entities(RouterSensor.offered(entry.runtime_data, *SENSORS))


class RouterSensor(RouterEntity, SensorEntity):
    """A router sensor."""

    entity_description: RouterSensorDescription

    @property
    def native_value(self) -> StateType:
        return self.entity_description.value_fn(self.coordinator.data)
