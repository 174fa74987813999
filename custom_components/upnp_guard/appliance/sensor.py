"""Sensors of appliance entries: temperature, humidity, and the agent's diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from async_upnp_client.client import UpnpDevice
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .connection import ApplianceConfigEntry, ApplianceConnection
from .const import AGENT_INFO, HUMIDITY_SENSOR, TEMPERATURE_SENSOR
from .entity import UpnpEntityDescription, UpnpGuardEntity, nodes_with, state_value

# TemperatureSensor:1 reports hundredths of a degree Celsius; our HumiditySensor:1
# hundredths of a percent of relative humidity (see the agent contract).
HUNDREDTHS = 100


def _hundredths(node: UpnpDevice, service_type: str, variable: str) -> float | None:
    value = state_value(node, service_type, variable)
    return None if value is None else int(value) / HUNDREDTHS


def _offers(service_type: str, variable: str) -> Callable[[UpnpDevice], bool]:
    def exists(node: UpnpDevice) -> bool:
        return node.service(service_type).has_state_variable(variable)

    return exists


@dataclass(frozen=True, kw_only=True)
class UpnpSensorEntityDescription(UpnpEntityDescription, SensorEntityDescription):
    """A sensor computed from the device's state variables."""

    value_fn: Callable[[UpnpDevice, ApplianceConnection], StateType | datetime]


SENSORS: tuple[UpnpSensorEntityDescription, ...] = (
    UpnpSensorEntityDescription(
        key="temperature",
        service_type=TEMPERATURE_SENSOR,
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        exists_fn=_offers(TEMPERATURE_SENSOR, "CurrentTemperature"),
        value_fn=lambda node, _c: _hundredths(node, TEMPERATURE_SENSOR, "CurrentTemperature"),
    ),
    UpnpSensorEntityDescription(
        key="humidity",
        service_type=HUMIDITY_SENSOR,
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        exists_fn=_offers(HUMIDITY_SENSOR, "CurrentHumidity"),
        value_fn=lambda node, _c: _hundredths(node, HUMIDITY_SENSOR, "CurrentHumidity"),
    ),
    UpnpSensorEntityDescription(
        key="firmware_version",
        translation_key="firmware_version",
        service_type=AGENT_INFO,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=_offers(AGENT_INFO, "FirmwareVersion"),
        value_fn=lambda node, _c: state_value(node, AGENT_INFO, "FirmwareVersion"),
    ),
    UpnpSensorEntityDescription(
        key="boot_id",
        translation_key="boot_id",
        service_type=AGENT_INFO,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        exists_fn=_offers(AGENT_INFO, "BootId"),
        value_fn=lambda node, _c: state_value(node, AGENT_INFO, "BootId"),
    ),
    UpnpSensorEntityDescription(
        key="security_mode",
        translation_key="security_mode",
        service_type=AGENT_INFO,
        device_class=SensorDeviceClass.ENUM,
        options=["open", "paired"],
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=_offers(AGENT_INFO, "SecurityMode"),
        value_fn=lambda node, _c: state_value(node, AGENT_INFO, "SecurityMode"),
    ),
    UpnpSensorEntityDescription(
        key="last_boot",
        translation_key="last_boot",
        service_type=AGENT_INFO,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Uptime is not evented: the boot time is derived once per (re)connection.
        exists_fn=_offers(AGENT_INFO, "Uptime"),
        value_fn=lambda _n, connection: (
            None
            if connection.booted_at is None
            else dt_util.utc_from_timestamp(round(connection.booted_at))
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Sensors for what each device really offers."""
    connection = entry.runtime_data
    async_add_entities(
        UpnpSensor(connection, node, description)
        for description in SENSORS
        for node in nodes_with(connection.device, description)
    )


class UpnpSensor(UpnpGuardEntity, SensorEntity):
    """A sensor whose value comes from GENA events."""

    entity_description: UpnpSensorEntityDescription

    @property
    def native_value(self) -> Any:
        """The description's value_fn."""
        return self.entity_description.value_fn(self.node, self.connection)
