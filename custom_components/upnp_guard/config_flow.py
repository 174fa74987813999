"""Config flow for UPnP Guard.

Appliances: `ssdp` (confirm), `user` (pick a discovered device or enter a description
URL), `pair` (our agent in paired mode: its key, checked with a signed read before the
entry exists; appliance/pairing_flow.py), `reauth` (a paired agent refuses the stored
key: ask for it again, appliance/pairing_flow.py; other devices: re-check that the device
answers), `reconfigure` (a new
description URL for the same UDN), and ignore (HA's default step: the unique id is set
before any form). A paired agent's options flow rotates its key (appliance/rotation.py).
Router (IGD) discoveries and URLs go to the router steps (router/config_flow.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import probatio as vol
from async_upnp_client.client import UpnpDevice
from async_upnp_client.exceptions import (
    UpnpConnectionError,
    UpnpError,
    UpnpResponseError,
    UpnpXmlParseError,
)
from homeassistant.components import ssdp
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from .appliance.const import AGENT_DEVICE_TYPE, DISCOVERABLE_SEARCH_TARGETS
from .appliance.description import async_load_appliance, is_supported
from .appliance.options_flow import AgentOptionsFlow
from .appliance.pairing_flow import AgentKeyFlowMixin
from .audit.config_flow import AuditFlowMixin, AuditOptionsFlow
from .const import (
    CONF_DEVICE_TYPE,
    CONF_KEY,
    CONF_KIND,
    CONF_LOCATION,
    CONF_TYPED_HOST,
    CONF_UDN,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    IGD_DEVICE_TYPES,
    MAX_LOCATION_LENGTH,
    EntryKind,
    is_audit_entry,
    is_router_entry,
)
from .discovery import async_claim_discovery, discovery_identity
from .router.config_flow import RouterFlowMixin, offers_wan_connection, router_options_flow
from .runtime import trust_typed_host
from .transport import TRANSPORT_ERRORS, LocationRefused, async_trust_typed_location

CONF_DISCOVERED = "discovered"


def describe_error(err: Exception) -> str:
    """The form error for a description that could not be loaded."""
    if isinstance(err, LocationRefused):
        return "location_refused"
    # A non-200 answer or a body that is not XML: whatever is there is not UPnP.
    if isinstance(err, UpnpResponseError | UpnpXmlParseError):
        return "not_upnp"
    if isinstance(err, UpnpError) and not isinstance(err, UpnpConnectionError):
        return "malformed_description"
    return "cannot_connect"


class UpnpGuardConfigFlow(
    AgentKeyFlowMixin, AuditFlowMixin, RouterFlowMixin, ConfigFlow, domain=DOMAIN
):
    """Add a UPnP device by discovery or by its description URL."""

    VERSION = ENTRY_VERSION
    MINOR_VERSION = ENTRY_MINOR_VERSION

    def __init__(self) -> None:
        """Start with nothing discovered."""
        self._location: str | None = None
        self._name: str | None = None
        # Host of the description URL the user typed in this flow, if any.
        self._typed_host: str | None = None
        # Discovered, not yet configured devices offered by the user step: UDN -> info.
        self._discoveries: dict[str, SsdpServiceInfo] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """A router's policy, the audit's probes, a paired agent's key and updates."""
        if is_audit_entry(config_entry.data):
            return AuditOptionsFlow()
        if is_router_entry(config_entry.data):
            return router_options_flow(config_entry)
        if CONF_KEY in config_entry.data:
            return AgentOptionsFlow()
        raise NotImplementedError

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Router, audit and paired agent entries have options."""
        data = config_entry.data
        return is_router_entry(data) or is_audit_entry(data) or CONF_KEY in data

    async def _async_describe(
        self, location: str, *, typed: bool = False
    ) -> tuple[UpnpDevice | None, str | None]:
        """Fetch the description; return the device or an error key.

        `typed`: the user typed `location`, so its host may be off the LAN (the entry
        remembers it, CONF_TYPED_HOST); discovered locations must be on the LAN.
        """
        if len(location) > MAX_LOCATION_LENGTH or urlsplit(location).scheme not in (
            "http",
            "https",
        ):
            return None, "invalid_url"
        self._typed_host = async_trust_typed_location(self.hass, location) if typed else None
        try:
            device = await async_load_appliance(self.hass, location)
        except TRANSPORT_ERRORS as err:
            return None, describe_error(err)
        if device.device_type in IGD_DEVICE_TYPES:
            if not offers_wan_connection(device):
                return None, "not_igd"
        elif not is_supported(device):
            return None, "not_supported"
        return device, None

    def _entry_data(self, device: UpnpDevice, location: str) -> dict[str, Any]:
        kind = EntryKind.ROUTER if device.device_type in IGD_DEVICE_TYPES else EntryKind.APPLIANCE
        data = {
            CONF_KIND: kind.value,
            CONF_LOCATION: location,
            CONF_UDN: device.udn,
            CONF_DEVICE_TYPE: device.device_type,
        }
        if self._typed_host is not None:
            data[CONF_TYPED_HOST] = self._typed_host
        return data

    async def _async_discovered_devices(self) -> dict[str, SsdpServiceInfo]:
        """Devices SSDP has seen that we support and that are not configured yet."""
        configured = {entry.unique_id for entry in self._async_current_entries()}
        found: dict[str, SsdpServiceInfo] = {}
        for search_target in DISCOVERABLE_SEARCH_TARGETS:
            for info in await ssdp.async_get_discovery_info_by_st(self.hass, search_target):
                identity = discovery_identity(info)
                if identity is not None and identity[0] not in configured:
                    found.setdefault(identity[0], info)
        return found

    def _user_schema(self) -> vol.Schema:
        fields: dict[Any, Any] = {}
        if self._discoveries:
            options = [
                SelectOptionDict(
                    value=udn,
                    label=f"{info.upnp.get('friendlyName') or udn} "
                    f"({urlsplit(info.ssdp_location or '').hostname})",
                )
                for udn, info in self._discoveries.items()
            ]
            fields[vol.Optional(CONF_DISCOVERED)] = SelectSelector(
                SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
            )
        fields[vol.Optional(CONF_LOCATION)] = str
        return vol.Schema(fields)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a discovered device, or add one by the URL of its description XML."""
        errors: dict[str, str] = {}
        if user_input is None:
            self._discoveries = await self._async_discovered_devices()
        else:
            location = (user_input.get(CONF_LOCATION) or "").strip()
            typed = bool(location)
            picked = user_input.get(CONF_DISCOVERED)
            if not location and picked in self._discoveries:
                location = self._discoveries[picked].ssdp_location or ""
            if not location:
                errors["base"] = "no_device"
            else:
                device, error = await self._async_describe(location, typed=typed)
                if device is not None:
                    # The user's choice wins over a discovery flow still waiting. A
                    # configured device is never moved from here: reconfigure is the
                    # deliberate way (it checks the UDN against the entry's).
                    await self.async_set_unique_id(device.udn, raise_on_progress=False)
                    self._abort_if_unique_id_configured()
                    return await self._async_create_or_pair(
                        device, self._entry_data(device, location)
                    )
                assert error is not None
                errors["base"] = error
        return self.async_show_form(step_id="user", data_schema=self._user_schema(), errors=errors)

    async def async_step_ssdp(self, discovery_info: SsdpServiceInfo) -> ConfigFlowResult:
        """A device announced itself: ask to confirm (a configured one may move: location.py)."""
        device_type = discovery_info.upnp.get("deviceType") or discovery_info.ssdp_st
        if device_type in IGD_DEVICE_TYPES:
            return await self.async_step_router_ssdp(discovery_info)
        self._location, self._name = await async_claim_discovery(self, discovery_info)
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
            assert error is not None
            return self.async_abort(reason=error)
        if device.udn != self.unique_id:
            # The announcement's UDN is not the one served there: such an entry would
            # never load (setup checks the UDN).
            return self.async_abort(reason="wrong_device")
        return await self._async_create_or_pair(device, self._entry_data(device, self._location))

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The device asks for credentials again: a paired agent refuses the stored key."""
        # Also our agent added in open mode and switched to paired since: it needs a key.
        if CONF_KEY in entry_data or entry_data.get(CONF_DEVICE_TYPE) == AGENT_DEVICE_TYPE:
            return await self.async_step_reauth_key()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check the device answers as the same UDN, then reload the entry."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result = await self._async_check_same_device(entry, entry.data[CONF_LOCATION], errors)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({}),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point the entry at a new description URL of the same device."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            location = user_input[CONF_LOCATION].strip()
            result = await self._async_check_same_device(entry, location, errors, typed=True)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_LOCATION): str}),
                {CONF_LOCATION: entry.data[CONF_LOCATION]},
            ),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def _async_check_same_device(
        self, entry: ConfigEntry, location: str, errors: dict[str, str], *, typed: bool = False
    ) -> ConfigFlowResult | None:
        """Update and reload `entry` if `location` describes its device; else fill errors."""
        trust_typed_host(self.hass, entry.data)
        device, error = await self._async_describe(location, typed=typed)
        if device is None:
            assert error is not None
            errors["base"] = error
            return None
        # Another device's discovery flow in progress must not hide that it is another one.
        await self.async_set_unique_id(device.udn, raise_on_progress=False)
        self._abort_if_unique_id_mismatch(reason="wrong_device")
        updates: dict[str, Any] = {}
        if self._typed_host is not None:
            updates[CONF_TYPED_HOST] = self._typed_host
        return self.async_update_location_and_abort(entry, location, updates)
