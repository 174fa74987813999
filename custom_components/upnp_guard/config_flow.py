"""Config flow for UPnP Guard."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import probatio as vol
from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.exceptions import UpnpError
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import callback
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from .const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_UDN,
    DOMAIN,
    IGD_DEVICE_TYPES,
    EntryKind,
    entry_kind,
)
from .router.config_flow import RouterFlowMixin, router_options_flow
from .runtime import async_load_device

USER_SCHEMA = vol.Schema({vol.Required(CONF_LOCATION): str})


class UpnpGuardConfigFlow(RouterFlowMixin, ConfigFlow, domain=DOMAIN):
    """Add a UPnP device by discovery or by its description URL."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing discovered."""
        self._location: str | None = None
        self._name: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Routers have a port-mapping policy; appliances have no options yet."""
        if entry_kind(dict(config_entry.data)) is EntryKind.ROUTER:
            return router_options_flow(config_entry)
        raise NotImplementedError

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Only router entries have options."""
        return entry_kind(dict(config_entry.data)) is EntryKind.ROUTER

    async def _async_describe(self, location: str) -> tuple[UpnpDevice | None, str | None]:
        """Fetch the description; return the device or an error key."""
        if urlsplit(location).scheme not in ("http", "https"):
            return None, "invalid_url"
        try:
            device = await async_load_device(self.hass, location)
        except ClientError, OSError, TimeoutError:
            return None, "cannot_connect"
        except UpnpError:
            return None, "not_upnp"
        return device, None

    def _entry_data(self, device: UpnpDevice, location: str) -> dict[str, Any]:
        kind = EntryKind.ROUTER if device.device_type in IGD_DEVICE_TYPES else EntryKind.APPLIANCE
        return {
            CONF_KIND: kind.value,
            CONF_LOCATION: location,
            CONF_UDN: device.udn,
            CONF_DEVICE_TYPE: device.device_type,
        }

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a device by the URL of its description XML."""
        errors: dict[str, str] = {}
        if user_input is not None:
            location = user_input[CONF_LOCATION].strip()
            device, error = await self._async_describe(location)
            if device is not None:
                await self.async_set_unique_id(device.udn)
                self._abort_if_unique_id_configured(updates={CONF_LOCATION: location})
                return self.async_create_entry(
                    title=device.friendly_name, data=self._entry_data(device, location)
                )
            assert error is not None
            errors["base"] = error
        return self.async_show_form(step_id="user", data_schema=USER_SCHEMA, errors=errors)

    async def async_step_ssdp(self, discovery_info: SsdpServiceInfo) -> ConfigFlowResult:
        """A device announced itself; keep its location current and ask to confirm."""
        device_type = discovery_info.upnp.get("deviceType") or discovery_info.ssdp_st
        if device_type in IGD_DEVICE_TYPES:
            return await self.async_step_router_ssdp(discovery_info)
        udn = discovery_info.upnp.get("UDN") or discovery_info.ssdp_udn
        location = discovery_info.ssdp_location
        if not udn or not location:
            return self.async_abort(reason="incomplete_discovery")
        await self.async_set_unique_id(udn)
        self._abort_if_unique_id_configured(updates={CONF_LOCATION: location})
        self._location = location
        self._name = discovery_info.upnp.get("friendlyName") or udn
        self.context["title_placeholders"] = {"name": self._name}
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm adding a discovered device."""
        assert self._location is not None
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", description_placeholders={"name": self._name or ""}
            )
        device, error = await self._async_describe(self._location)
        if device is None:
            return self.async_abort(reason=error or "cannot_connect")
        return self.async_create_entry(
            title=device.friendly_name, data=self._entry_data(device, self._location)
        )
