"""The router entry's actions as the tests call them: `upnp_guard.<action>`, blocking.

`response=True` asks for the action's answer (add and remove answer on request,
`list_port_mappings` always); `context` says which user calls.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import Context, HomeAssistant, ServiceResponse

from custom_components.upnp_guard.const import DOMAIN

type Fields = dict[str, Any]


async def _async_call(
    hass: HomeAssistant, action: str, data: Fields, response: bool, context: Context | None
) -> ServiceResponse:
    return await hass.services.async_call(
        DOMAIN, action, data, blocking=True, return_response=response, context=context
    )


async def async_add_port_mapping(
    hass: HomeAssistant, data: Fields, *, response: bool = False, context: Context | None = None
) -> ServiceResponse:
    """`upnp_guard.add_port_mapping` with `data`."""
    return await _async_call(hass, "add_port_mapping", data, response, context)


async def async_remove_port_mapping(
    hass: HomeAssistant, data: Fields, *, response: bool = False, context: Context | None = None
) -> ServiceResponse:
    """`upnp_guard.remove_port_mapping` with `data`."""
    return await _async_call(hass, "remove_port_mapping", data, response, context)


async def async_list_port_mappings(
    hass: HomeAssistant, *, context: Context | None = None
) -> ServiceResponse:
    """`upnp_guard.list_port_mappings`: the router table as the action answers it."""
    return await _async_call(hass, "list_port_mappings", {}, True, context)
