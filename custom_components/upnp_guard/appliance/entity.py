"""Base entity of appliance entries and the one place UPnP errors become HA errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

from async_upnp_client.client import UpnpDevice, UpnpService
from async_upnp_client.exceptions import (
    UpnpActionResponseError,
    UpnpResponseError,
    UpnpValueError,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.device_registry import CONNECTION_UPNP, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from ..const import DOMAIN
from ..lan_text import clean
from ..transport import TRANSPORT_ERRORS
from .connection import ApplianceConnection


@dataclass(frozen=True, kw_only=True)
class UpnpEntityDescription(EntityDescription):
    """What an entity reads from one service of a UPnP device."""

    service_type: str
    # The entity exists only when the service also offers what it needs.
    exists_fn: Callable[[UpnpDevice], bool] = lambda _node: True


def offers(service_type: str, variable: str) -> Callable[[UpnpDevice], bool]:
    """An `exists_fn`: the node's service of that type has that state variable."""

    def exists(node: UpnpDevice) -> bool:
        return node.service(service_type).has_state_variable(variable)

    return exists


def nodes_with(device: UpnpDevice, description: UpnpEntityDescription) -> Iterator[UpnpDevice]:
    """The device and embedded devices that offer what `description` reads."""
    for node in device.all_devices:
        if node.has_service(description.service_type) and description.exists_fn(node):
            yield node


def state_value(node: UpnpDevice, service_type: str, variable: str) -> Any:
    """Current value of a state variable, None when unknown or not offered."""
    if not node.has_service(service_type):
        return None
    service = node.service(service_type)
    if not service.has_state_variable(variable):
        return None
    return service.state_variable(variable).value


# The words of a UPnP boolean (UDA 1.1 section 2.5), as a device whose SCPD types the variable
# as a string sends them.
TRUE_WORDS = frozenset({"1", "true", "yes"})
FALSE_WORDS = frozenset({"0", "false", "no"})


def state_flag(node: UpnpDevice, service_type: str, variable: str) -> bool | None:
    """A boolean state variable's value, None when unknown or not offered.

    A text value (the SCPD typed the variable as a string) is read as a UPnP boolean
    word; any other text is unknown (bool("0") would be true).
    """
    value = state_value(node, service_type, variable)
    if value is None:
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        return False if word in FALSE_WORDS else None
    return bool(value)


def device_info(node: UpnpDevice, root_device_id: str | None = None) -> DeviceInfo:
    """Device registry entry for a UPnP device (embedded ones hang off their root)."""
    info = DeviceInfo(
        identifiers={(DOMAIN, node.udn)},
        connections={(CONNECTION_UPNP, node.udn)},
        name=node.friendly_name,
        manufacturer=node.manufacturer,
        model=node.model_name,
        serial_number=node.serial_number,
    )
    if node.root_device is not node:
        if root_device_id is not None:
            info["via_device_id"] = root_device_id
    elif node.model_number:
        # modelNumber is what UDA offers for a version; our agent puts its firmware there.
        info["sw_version"] = node.model_number
    if node.presentation_url and urlsplit(node.presentation_url).scheme in ("http", "https"):
        info["configuration_url"] = node.presentation_url
    return info


class UpnpGuardEntity(Entity):
    """An entity backed by state variables of one UPnP device, updated by GENA events."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: UpnpEntityDescription

    def __init__(
        self,
        connection: ApplianceConnection,
        node: UpnpDevice,
        description: UpnpEntityDescription,
    ) -> None:
        self.connection = connection
        self.node = node
        self.entity_description = description
        self._attr_unique_id = f"{node.udn}_{description.key}"
        self._attr_device_info = device_info(node, connection.root_device_id)

    @classmethod
    def for_each_node(
        cls, connection: ApplianceConnection, *descriptions: UpnpEntityDescription
    ) -> list[Self]:
        """One entity per description and node of the device that offers what it reads."""
        return [
            cls(connection, node, description)
            for description in descriptions
            for node in nodes_with(connection.device, description)
        ]

    @property
    def service(self) -> UpnpService:
        """The service this entity reads."""
        return self.node.service(self.entity_description.service_type)

    @property
    def available(self) -> bool:
        """Unavailable from a byebye or failed renewal until the device is back."""
        return self.connection.available

    async def async_added_to_hass(self) -> None:
        """Follow the device's events."""
        self.async_on_remove(self.connection.async_add_listener(self._handle_state_change))

    def _handle_state_change(self, service: UpnpService, resync: bool) -> None:
        if service.device is self.node:
            self.async_write_ha_state()

    async def async_call(self, service_type: str, action: str, **arguments: Any) -> None:
        """Call an action on this entity's device; pushed state follows by event."""
        service = self.node.service(service_type)
        await async_call_action(self.connection, service, action, arguments)
        await self.connection.async_refresh_after_control(service)


async def async_call_action(
    connection: ApplianceConnection,
    service: UpnpService,
    action_name: str,
    arguments: Mapping[str, Any],
) -> Mapping[str, Any]:
    """Call a UPnP action; device errors raise HomeAssistantError with the UPnP code."""
    if not service.has_action(action_name):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_action",
            translation_placeholders={"action": action_name, "service": service.service_id},
        )
    action = service.action(action_name)
    try:
        async with connection.control_lock:
            return await action.async_call(**arguments)
    except UpnpValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_argument",
            translation_placeholders={"action": action_name, "error": str(err)},
        ) from err
    except UpnpActionResponseError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="action_failed",
            translation_placeholders={
                "action": action_name,
                "code": str(err.error_code),
                "description": err.error_desc or "",
            },
        ) from err
    except UpnpResponseError as err:
        # The device answered, with an HTTP error and no SOAP fault: it is still there.
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="action_failed",
            translation_placeholders={
                "action": action_name,
                "code": f"HTTP {err.status}",
                "description": "",
            },
        ) from err
    except TRANSPORT_ERRORS as err:
        connection.async_mark_failed(err)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="device_not_responding",
            translation_placeholders={"name": clean(connection.device.friendly_name)},
        ) from err
