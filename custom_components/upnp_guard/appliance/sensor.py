"""Sensors of appliance entries: temperature, humidity, the agent's diagnostics, and
every other evented numeric state variable of services no other entity covers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from async_upnp_client.client import UpnpDevice, UpnpStateVariable
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

from ..lan_text import get_logger
from .connection import ApplianceConfigEntry, ApplianceConnection
from .const import (
    AGENT_INFO,
    HUMIDITY_SENSOR,
    MAX_GENERIC_SENSORS,
    NUMERIC_DATA_TYPES,
    SUPPORTED_SERVICE_TYPES,
    TEMPERATURE_SENSOR,
)
from .entity import UpnpEntityDescription, UpnpGuardEntity, offers, state_value

_LOGGER = get_logger(__name__)

# TemperatureSensor:1 reports hundredths of a degree Celsius; our HumiditySensor:1
# hundredths of a percent of relative humidity (see the agent contract).
HUNDREDTHS = 100


def _hundredths(node: UpnpDevice, service_type: str, variable: str) -> float | None:
    value = state_value(node, service_type, variable)
    return None if value is None else int(value) / HUNDREDTHS


def _number(node: UpnpDevice, service_type: str, variable: str) -> int | float | None:
    """A numeric variable's value; anything a device sends that is no number is unknown."""
    # async-upnp-client parses event values by data type (int or float here) and keeps
    # None for text that does not parse; bool is an int to Python, but never a reading.
    value = state_value(node, service_type, variable)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        # NaN/INF parse as floats but are no measurement.
        return None
    return value


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
        exists_fn=offers(TEMPERATURE_SENSOR, "CurrentTemperature"),
        value_fn=lambda node, _c: _hundredths(node, TEMPERATURE_SENSOR, "CurrentTemperature"),
    ),
    UpnpSensorEntityDescription(
        key="humidity",
        service_type=HUMIDITY_SENSOR,
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        exists_fn=offers(HUMIDITY_SENSOR, "CurrentHumidity"),
        value_fn=lambda node, _c: _hundredths(node, HUMIDITY_SENSOR, "CurrentHumidity"),
    ),
    UpnpSensorEntityDescription(
        key="firmware_version",
        translation_key="firmware_version",
        service_type=AGENT_INFO,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=offers(AGENT_INFO, "FirmwareVersion"),
        value_fn=lambda node, _c: state_value(node, AGENT_INFO, "FirmwareVersion"),
    ),
    UpnpSensorEntityDescription(
        key="boot_id",
        translation_key="boot_id",
        service_type=AGENT_INFO,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        exists_fn=offers(AGENT_INFO, "BootId"),
        value_fn=lambda node, _c: state_value(node, AGENT_INFO, "BootId"),
    ),
    UpnpSensorEntityDescription(
        key="security_mode",
        translation_key="security_mode",
        service_type=AGENT_INFO,
        device_class=SensorDeviceClass.ENUM,
        options=["open", "paired"],
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=offers(AGENT_INFO, "SecurityMode"),
        value_fn=lambda node, _c: state_value(node, AGENT_INFO, "SecurityMode"),
    ),
    UpnpSensorEntityDescription(
        key="last_boot",
        translation_key="last_boot",
        service_type=AGENT_INFO,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Uptime is not evented: the boot time is derived once per (re)connection.
        exists_fn=offers(AGENT_INFO, "Uptime"),
        value_fn=lambda _n, connection: (
            None
            if connection.booted_at is None
            else dt_util.utc_from_timestamp(round(connection.booted_at))
        ),
    ),
)


# A paired agent's NOTIFYs refused since the entry loaded (paired.py, notify.py); only
# entries with a key get it.
REJECTED_EVENTS = UpnpSensorEntityDescription(
    key="rejected_events",
    translation_key="rejected_events",
    service_type=AGENT_INFO,
    state_class=SensorStateClass.TOTAL_INCREASING,
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=lambda _n, connection: (
        None if connection.paired is None else connection.paired.rejected_total
    ),
)


def _is_generic_numeric(variable: UpnpStateVariable[Any]) -> bool:
    return variable.send_events and variable.data_type in NUMERIC_DATA_TYPES


def generic_sensors(device: UpnpDevice) -> Iterator[tuple[UpnpDevice, UpnpSensorEntityDescription]]:
    """One sensor per evented numeric variable of each service no other entity covers.

    UPnP carries no unit or meaning for a variable, so these get neither device class nor
    unit; only events update them, so non-evented variables get none (use get_variables).
    A device may event dozens of such variables: each starts disabled; the user enables
    the ones that mean something.
    The description decides how many there are: at most MAX_GENERIC_SENSORS.
    """
    count = 0
    for node in device.all_devices:
        for service in node.services.values():
            if service.service_type in SUPPORTED_SERVICE_TYPES:
                continue
            for variable in service.state_variables.values():
                if not _is_generic_numeric(variable):
                    continue
                if count >= MAX_GENERIC_SENSORS:
                    _LOGGER.warning(
                        "%s declares more than %s evented numeric variables; the others "
                        "get no sensor (read them with get_variables)",
                        device.friendly_name,
                        MAX_GENERIC_SENSORS,
                    )
                    return
                count += 1
                yield (
                    node,
                    UpnpSensorEntityDescription(
                        # The base entity's unique id is the node UDN + this key.
                        key=f"{service.service_id}_{variable.name}",
                        translation_key="state_variable",
                        translation_placeholders={"variable": variable.name},
                        service_type=service.service_type,
                        state_class=SensorStateClass.MEASUREMENT,
                        entity_registry_enabled_default=False,
                        value_fn=_generic_value(service.service_type, variable.name),
                    ),
                )


def _generic_value(
    service_type: str, variable: str
) -> Callable[[UpnpDevice, ApplianceConnection], StateType]:
    return lambda node, _c: _number(node, service_type, variable)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Sensors for what each device really offers."""
    connection = entry.runtime_data
    async_add_entities(UpnpSensor.for_each_node(connection, *SENSORS))
    async_add_entities(
        UpnpSensor(connection, node, description)
        for node, description in generic_sensors(connection.device)
    )
    if connection.paired is not None and connection.device.has_service(AGENT_INFO):
        async_add_entities([UpnpSensor(connection, connection.device, REJECTED_EVENTS)])


class UpnpSensor(UpnpGuardEntity, SensorEntity):
    """A sensor whose value comes from GENA events."""

    entity_description: UpnpSensorEntityDescription

    @property
    def native_value(self) -> Any:
        """The description's value_fn."""
        return self.entity_description.value_fn(self.node, self.connection)
