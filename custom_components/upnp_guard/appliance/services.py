"""Actions (services) of appliance entries, registered once in async_setup.

`upnp_guard.call_action` reaches any action a device's SCPD declares; arguments are
checked against the SCPD (names, types, ranges, allowed values) before anything is
sent. It is an admin action: it can do anything the device allows.
`upnp_guard.get_variables` returns the state variables as Home Assistant knows them
(kept current by GENA events).
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from async_upnp_client.client import UpnpAction, UpnpDevice, UpnpService
from async_upnp_client.exceptions import UpnpError
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service

from ..const import DOMAIN
from ..runtime import UpnpGuardConfigEntry, is_audit, is_router
from .connection import ApplianceConnection
from .entity import FALSE_WORDS, TRUE_WORDS, async_call_action

SERVICE_CALL_ACTION = "call_action"
SERVICE_GET_VARIABLES = "get_variables"
ATTR_SERVICE = "service"
ATTR_ACTION = "action"
ATTR_ARGUMENTS = "arguments"
# Bound on the arguments a caller may pass (no SCPD action we know has more).
MAX_ARGUMENTS = 32
# UDA 1.1 section 2.5: the boolean data type's spellings.
BOOLEAN_WORDS = TRUE_WORDS | FALSE_WORDS

CALL_ACTION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): str,
        vol.Required(ATTR_SERVICE): str,
        vol.Required(ATTR_ACTION): str,
        vol.Optional(ATTR_ARGUMENTS, default={}): vol.All(
            {str: vol.Any(str, int, float, bool)}, vol.Length(max=MAX_ARGUMENTS)
        ),
    }
)
GET_VARIABLES_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): str})


def _validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def resolve_device(hass: HomeAssistant, device_id: str) -> tuple[ApplianceConnection, UpnpDevice]:
    """The loaded connection and the UPnP (possibly embedded) device of a registry device."""
    device_entry = dr.async_get(hass).async_get(device_id)
    if device_entry is None:
        raise _validation_error("unknown_device", device_id=device_id)
    udns = {value for domain, value in device_entry.identifiers if domain == DOMAIN}
    # A device belongs to one config entry (Home Assistant 2026.10's registry).
    found = hass.config_entries.async_get_entry(device_entry.config_entry_id)
    if found is None or found.domain != DOMAIN:
        raise _validation_error("unknown_device", device_id=device_id)
    entry: UpnpGuardConfigEntry = found
    if is_audit(entry):
        raise _validation_error("unknown_device", device_id=device_id)
    if is_router(entry):
        raise _validation_error("device_is_router", device=device_entry.name or device_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _validation_error("device_not_loaded", device=device_entry.name or device_id)
    connection = entry.runtime_data
    for node in connection.device.all_devices:
        if node.udn in udns:
            return connection, node
    raise _validation_error("unknown_device", device_id=device_id)


def resolve_service(node: UpnpDevice, name: str) -> UpnpService:
    """A service by type (urn:...:service:X:1), id (urn:...:serviceId:X) or short name X."""
    for service in node.services.values():
        short = service.service_id.rsplit(":", 1)[-1]
        if name in (service.service_type, service.service_id, short):
            return service
    raise _validation_error(
        "unknown_service",
        service=name,
        available=", ".join(sorted(s.service_id for s in node.services.values())),
    )


def coerce_arguments(
    service: UpnpService, action_name: str, given: dict[str, Any]
) -> dict[str, Any]:
    """Arguments converted to the SCPD's types; unknown or missing names are refused."""
    if not service.has_action(action_name):
        raise _validation_error("unknown_action", action=action_name, service=service.service_id)
    action = service.action(action_name)
    expected = {argument.name: argument for argument in action.in_arguments()}
    unknown = sorted(set(given) - set(expected))
    missing = sorted(set(expected) - set(given))
    if unknown or missing:
        raise _validation_error(
            "argument_mismatch",
            action=action_name,
            expected=", ".join(expected) or "-",
            unknown=", ".join(unknown) or "-",
            missing=", ".join(missing) or "-",
        )
    arguments: dict[str, Any] = {}
    for name, value in given.items():
        try:
            arguments[name] = check_value(expected[name], value)
        except (UpnpError, ValueError, TypeError, vol.Invalid) as err:
            raise _validation_error(
                "invalid_argument", action=action_name, error=f"{name}: {err}"
            ) from err
    return arguments


def check_value(argument: UpnpAction.Argument, value: Any) -> Any:
    """The value in the argument's SCPD type, inside its range and allowed values.

    The description is parsed leniently (real devices send out-of-range events), so
    the SCPD's allowedValueRange and allowedValueList are enforced here, before sending.
    """
    variable = argument.related_state_variable
    if isinstance(value, str):
        # YAML and the UI give strings; the SCPD type decides what they mean.
        if variable.data_type == "boolean" and value.strip().lower() not in BOOLEAN_WORDS:
            raise ValueError(f"{value!r} is not a UPnP boolean")
        value = argument.coerce_python(value)
    argument.validate_value(value)
    if variable.min_value is not None and value < variable.min_value:
        raise ValueError(f"{value} is below the minimum {variable.min_value}")
    if variable.max_value is not None and value > variable.max_value:
        raise ValueError(f"{value} is above the maximum {variable.max_value}")
    if variable.allowed_values and value not in variable.allowed_values:
        raise ValueError(f"{value!r} is not one of {sorted(variable.allowed_values)}")
    return value


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the appliance actions."""

    async def _call_action(call: ServiceCall) -> ServiceResponse:
        connection, node = resolve_device(hass, call.data[ATTR_DEVICE_ID])
        service = resolve_service(node, call.data[ATTR_SERVICE])
        action_name: str = call.data[ATTR_ACTION]
        arguments = coerce_arguments(service, action_name, call.data[ATTR_ARGUMENTS])
        result = await async_call_action(connection, service, action_name, arguments)
        await connection.async_refresh_after_control(service)
        return {name: _jsonable(value) for name, value in result.items()}

    async def _get_variables(call: ServiceCall) -> ServiceResponse:
        _connection, node = resolve_device(hass, call.data[ATTR_DEVICE_ID])
        return {
            service.service_id: {
                name: _jsonable(variable.value)
                for name, variable in service.state_variables.items()
                # A_ARG_TYPE_* only type action arguments (UDA 1.1 section 2.5).
                if not name.startswith("A_ARG_TYPE_")
            }
            for service in node.services.values()
        }

    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_CALL_ACTION,
        _call_action,
        schema=CALL_ACTION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_VARIABLES,
        _get_variables,
        schema=GET_VARIABLES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
