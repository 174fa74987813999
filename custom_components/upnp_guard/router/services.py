"""Actions (services) of router entries, registered once in async_setup."""

from __future__ import annotations

import ipaddress
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service

from ..const import DOMAIN
from .const import MAX_LEASE, MIN_LEASE
from .coordinator import RouterCoordinator
from .data import router_entries
from .errors import router_action
from .models import OwnedMapping

SERVICE_LIST = "list_port_mappings"
SERVICE_ADD = "add_port_mapping"
SERVICE_REMOVE = "remove_port_mapping"

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_EXTERNAL_PORT = "external_port"
ATTR_INTERNAL_PORT = "internal_port"
ATTR_INTERNAL_CLIENT = "internal_client"
ATTR_PROTOCOL = "protocol"
ATTR_LEASE_DURATION = "lease_duration"
ATTR_DESCRIPTION = "description"
ATTR_REMOTE_HOST = "remote_host"

DEFAULT_DESCRIPTION = "UPnP Guard"
MAX_SERVICE_DESCRIPTION = 64

_PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
_PROTOCOL = vol.All(vol.Upper, vol.In(("TCP", "UDP")))


def _ipv4(value: Any) -> str:
    return str(ipaddress.IPv4Address(str(value)))


def _remote_host(value: Any) -> str:
    """ "" (or "*") is the wildcard: any remote host."""
    text = str(value).strip()
    return "" if text in ("", "*") else _ipv4(text)


_ENTRY: dict[Any, Any] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
LIST_SCHEMA = vol.Schema(_ENTRY)
ADD_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_EXTERNAL_PORT): _PORT,
        vol.Required(ATTR_PROTOCOL): _PROTOCOL,
        vol.Optional(ATTR_INTERNAL_PORT): _PORT,
        vol.Optional(ATTR_INTERNAL_CLIENT): _ipv4,
        # Default deny: a mapping that never expires outlives Home Assistant's control.
        vol.Required(ATTR_LEASE_DURATION): vol.All(
            vol.Coerce(int), vol.Range(min=MIN_LEASE, max=MAX_LEASE)
        ),
        vol.Optional(ATTR_DESCRIPTION, default=DEFAULT_DESCRIPTION): vol.All(
            cv.string, vol.Length(max=MAX_SERVICE_DESCRIPTION)
        ),
        vol.Optional(ATTR_REMOTE_HOST, default=""): _remote_host,
    }
)
REMOVE_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_EXTERNAL_PORT): _PORT,
        vol.Required(ATTR_PROTOCOL): _PROTOCOL,
        vol.Optional(ATTR_REMOTE_HOST, default=""): _remote_host,
    }
)


def _coordinator(hass: HomeAssistant, call: ServiceCall) -> RouterCoordinator:
    """The loaded router entry the call names, or the only one there is."""
    routers = router_entries(hass)
    wanted = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if wanted is not None:
        routers = [entry for entry in routers if entry.entry_id == wanted]
        named = hass.config_entries.async_get_entry(wanted)
        if not routers and named is not None and named.domain == DOMAIN:
            # An appliance's entry: say so rather than "no router".
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_router",
                translation_placeholders={"entry": named.title},
            )
    if len(routers) != 1:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="router_not_found" if not routers else "router_ambiguous",
        )
    entry = routers[0]
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="router_not_loaded",
            translation_placeholders={"router": entry.title},
        )
    return entry.runtime_data.coordinator


async def _async_list(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call)
    await coordinator.async_refresh()
    if not coordinator.last_update_success:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="router_action_failed",
            translation_placeholders={"error": str(coordinator.last_exception)},
        )
    return {"port_mappings": [report.as_dict() for report in coordinator.data.reports]}


@router_action
async def _async_add(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call)
    client = call.data.get(ATTR_INTERNAL_CLIENT, coordinator.ha_ip)
    if client != coordinator.ha_ip and client not in coordinator.policy.add_clients:
        # Never expose another host unless the user listed it in the options.
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="router_client_not_allowed",
            translation_placeholders={"client": client},
        )
    external_port: int = call.data[ATTR_EXTERNAL_PORT]
    owned = OwnedMapping(
        remote_host=call.data[ATTR_REMOTE_HOST],
        external_port=external_port,
        protocol=call.data[ATTR_PROTOCOL],
        internal_client=client,
        internal_port=call.data.get(ATTR_INTERNAL_PORT, external_port),
        description=call.data[ATTR_DESCRIPTION],
        lease_duration=call.data[ATTR_LEASE_DURATION],
    )
    granted = await coordinator.leases.async_add(owned)
    await coordinator.async_refresh()
    return {
        "external_port": owned.external_port,
        "protocol": owned.protocol,
        "internal_client": owned.internal_client,
        "internal_port": owned.internal_port,
        "lease_granted": granted.lease_duration if granted else None,
    }


@router_action
async def _async_remove(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call)
    key = (call.data[ATTR_REMOTE_HOST], call.data[ATTR_EXTERNAL_PORT], call.data[ATTR_PROTOCOL])
    result = await coordinator.async_remove(key)
    return {"result": result.value}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the router actions: listing is open to every user; adding and removing
    mappings changes what the internet reaches, so only administrators may."""
    hass.services.async_register(
        DOMAIN, SERVICE_LIST, _async_list, LIST_SCHEMA, supports_response=SupportsResponse.ONLY
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_ADD,
        _async_add,
        ADD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_REMOVE,
        _async_remove,
        REMOVE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
