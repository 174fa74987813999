"""Config and options flow steps for router (IGD) entries.

`RouterFlowMixin` is mixed into the integration's ConfigFlow (config_flow.py), which
routes IGD discoveries to `async_step_router_ssdp`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import probatio as vol
from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.exceptions import UpnpResponseError
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
)
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from ..const import CONF_DEVICE_TYPE, CONF_KIND, CONF_LOCATION, CONF_UDN, EntryKind
from ..discovery import async_claim_discovery
from ..lan_text import code
from ..runtime import async_load_device
from ..transport import TRANSPORT_ERRORS, LocationRefused
from .const import (
    CONF_ADD_CLIENTS,
    CONF_ALLOW_RULES,
    CONF_GRACE_PERIOD,
    CONF_MODE,
    DEFAULT_GRACE_PERIOD,
    MAX_ENFORCE_PREVIEW,
    MAX_GRACE_PERIOD,
    MODE_ENFORCE,
    MODE_MONITOR,
)
from .data import loaded_router
from .igd import IgdClient, NotAnIgd
from .models import MappingReport
from .policy import InvalidRule, Policy, parse_clients, parse_rules

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlow

    _FlowBase = ConfigFlow
else:
    _FlowBase = object


def _describe(report: MappingReport) -> str:
    """One mapping for the enforce preview; every field from the router shown literally."""
    m = report.mapping
    return (
        f"{code(m.protocol)} {m.external_port} → {code(m.internal_client)} "
        f"port {m.internal_port}, {code(m.description)}"
    )


def offers_wan_connection(device: UpnpDevice) -> bool:
    """Whether a router's description has what a router entry watches (its setup needs it)."""
    try:
        IgdClient(device)
    except NotAnIgd:
        return False
    return True


class RouterFlowMixin(_FlowBase):
    """Steps that add a router entry."""

    _router_location: str | None = None
    _router_name: str | None = None

    async def async_step_router_ssdp(self, discovery_info: SsdpServiceInfo) -> ConfigFlowResult:
        """Router discovered over SSDP: one entry per router UDN (a configured router
        announced elsewhere moves only as location.py allows)."""
        self._router_location, self._router_name = await async_claim_discovery(self, discovery_info)
        return await self.async_step_router_confirm()

    async def async_step_router_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before watching a router (nothing is changed on it by adding it)."""
        # Only router_ssdp leads here, and it set the location or aborted.
        assert self._router_location is not None
        if user_input is None:
            return self.async_show_form(
                step_id="router_confirm",
                description_placeholders={"name": self._router_name or ""},
            )
        try:
            device = await async_load_device(self.hass, self._router_location)
        except TRANSPORT_ERRORS as err:
            return self.async_abort(reason=_load_error_reason(err))
        if not offers_wan_connection(device):
            # Its setup could never succeed (router_not_igd): say so now.
            return self.async_abort(reason="not_igd")
        if device.udn != self.unique_id:
            # Nor would it with another UDN than announced (setup checks the UDN).
            return self.async_abort(reason="wrong_device")
        return self.async_create_entry(
            title=device.friendly_name,
            data={
                CONF_KIND: EntryKind.ROUTER.value,
                CONF_LOCATION: self._router_location,
                CONF_UDN: device.udn,
                CONF_DEVICE_TYPE: device.device_type,
            },
        )

    def async_update_location_and_abort(
        self, entry: ConfigEntry, location: str, extra: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Store a checked new location (reauth, reconfigure) and finish the flow.

        A loaded router entry has an update listener that reconnects when its location
        changes: it does the reload. Home Assistant stops reloading such entries from
        `async_update_reload_and_abort` in 2026.12 (it reports the use until then).
        Entries without a listener (appliances, a router not loaded) are reloaded here.
        """
        updates = {CONF_LOCATION: location, **(extra or {})}
        if entry.update_listeners:
            return self.async_update_and_abort(entry, data_updates=updates)
        return self.async_update_reload_and_abort(entry, data_updates=updates)


def _load_error_reason(err: Exception) -> str:
    """The abort reason for a description that could not be loaded."""
    if isinstance(err, LocationRefused):
        return "location_refused"
    # An HTTP error status is an answer (async-upnp-client makes it a ClientError too):
    # whatever is there is no UPnP description, as in the user step.
    if isinstance(err, UpnpResponseError) or not isinstance(
        err, ClientError | OSError | TimeoutError
    ):
        return "not_upnp"
    return "cannot_connect"


def _options_schema(options: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_MODE, default=options.get(CONF_MODE, MODE_MONITOR)): SelectSelector(
                SelectSelectorConfig(options=[MODE_MONITOR, MODE_ENFORCE], translation_key="mode")
            ),
            vol.Required(
                CONF_GRACE_PERIOD, default=options.get(CONF_GRACE_PERIOD, DEFAULT_GRACE_PERIOD)
            ): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=MAX_GRACE_PERIOD,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            vol.Optional(CONF_ALLOW_RULES, default=options.get(CONF_ALLOW_RULES, [])): TextSelector(
                TextSelectorConfig(multiple=True)
            ),
            vol.Optional(CONF_ADD_CLIENTS, default=options.get(CONF_ADD_CLIENTS, [])): TextSelector(
                TextSelectorConfig(multiple=True)
            ),
        }
    )


class RouterOptionsFlow(OptionsFlow):
    """Port-mapping policy for a router entry: mode, grace period, allow rules.

    Enforce mode removes every mapping UPnP Guard does not own and no rule allows (a game
    console's too), so choosing it shows what it would remove now and asks first.
    """

    _pending: dict[str, Any]

    async def async_step_enforce(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The preview of enforce mode; submitting it confirms the options."""
        if user_input is not None:
            return self.async_create_entry(data=self._pending)
        removals = self._removals(Policy.from_options(self._pending))
        if removals is None:
            preview = "?"
            count = "?"
        else:
            lines = [f"- {_describe(report)}" for report in removals[:MAX_ENFORCE_PREVIEW]]
            if len(removals) > MAX_ENFORCE_PREVIEW:
                lines.append(f"- … {len(removals) - MAX_ENFORCE_PREVIEW} more")
            preview = "\n".join(lines) or "-"
            count = str(len(removals))
        return self.async_show_form(
            step_id="enforce",
            data_schema=vol.Schema({}),
            description_placeholders={
                "count": count,
                "mappings": preview,
                "grace_period": str(self._pending[CONF_GRACE_PERIOD]),
            },
        )

    def _removals(self, policy: Policy) -> list[MappingReport] | None:
        """What enforcing `policy` would remove after the grace period, as of the last
        poll; None when the router has not been read (the entry is not loaded)."""
        entry = loaded_router(self.hass, self.config_entry.entry_id)
        if entry is None:
            return None
        reports = entry.runtime_data.coordinator.data.reports
        return [r for r in reports if not r.owned and not policy.allows(r.mapping)]

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"problem": ""}
        if user_input is not None:
            try:
                rules = parse_rules(user_input.get(CONF_ALLOW_RULES, []))
            except InvalidRule as err:
                errors[CONF_ALLOW_RULES] = "invalid_rule"
                placeholders["problem"] = str(err)
            try:
                clients = parse_clients(user_input.get(CONF_ADD_CLIENTS, []))
            except InvalidRule as err:
                errors[CONF_ADD_CLIENTS] = "invalid_client"
                placeholders["problem"] = str(err)
            if not errors:
                options = {
                    CONF_MODE: user_input[CONF_MODE],
                    CONF_GRACE_PERIOD: int(user_input[CONF_GRACE_PERIOD]),
                    # Stored normalised, so the form shows what will be applied.
                    CONF_ALLOW_RULES: [str(rule) for rule in rules],
                    CONF_ADD_CLIENTS: clients,
                }
                if options[CONF_MODE] != MODE_ENFORCE:
                    return self.async_create_entry(data=options)
                self._pending = options
                return await self.async_step_enforce()
        shown = dict(self.config_entry.options) | (user_input or {})
        return self.async_show_form(
            step_id="init",
            data_schema=_options_schema(shown),
            errors=errors,
            description_placeholders=placeholders,
        )


def router_options_flow(entry: ConfigEntry) -> OptionsFlow:
    """Options flow for a router entry."""
    return RouterOptionsFlow()
