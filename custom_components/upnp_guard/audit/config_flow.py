"""Adding the audit entry: offered, never added silently.

When the integration is set up (at start, or when any of its flows starts) and Home
Assistant has no audit entry (nor one the user ignored), a discovery flow offers one
("UPnP network audit"); the user confirms it like any discovered device. One per Home
Assistant: its unique id is fixed (AUDIT_UNIQUE_ID).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import probatio as vol
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import discovery_flow

from ..const import CONF_KIND, DOMAIN, EntryKind
from .const import AUDIT_UNIQUE_ID, CONF_ACTIVE_PROBES

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlow

    _FlowBase = ConfigFlow
else:
    _FlowBase = object

AUDIT_TITLE = "UPnP network audit"


@callback
def async_offer_audit(hass: HomeAssistant) -> None:
    """Start the offer unless an audit entry exists (ignored ones count)."""
    if any(
        entry.unique_id == AUDIT_UNIQUE_ID for entry in hass.config_entries.async_entries(DOMAIN)
    ):
        return
    discovery_flow.async_create_flow(
        hass,
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={CONF_KIND: EntryKind.AUDIT.value},
    )


class AuditFlowMixin(_FlowBase):
    """The audit's discovery and confirm steps."""

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """The integration offers its audit (async_offer_audit)."""
        if discovery_info.get(CONF_KIND) != EntryKind.AUDIT:
            return self.async_abort(reason="not_supported")
        await self.async_set_unique_id(AUDIT_UNIQUE_ID)
        self._abort_if_unique_id_configured()
        self.context["title_placeholders"] = {"name": AUDIT_TITLE}
        return await self.async_step_audit_confirm()

    async def async_step_audit_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm adding the network audit."""
        if user_input is None:
            return self.async_show_form(step_id="audit_confirm", data_schema=vol.Schema({}))
        return self.async_create_entry(title=AUDIT_TITLE, data={CONF_KIND: EntryKind.AUDIT.value})


class AuditOptionsFlow(OptionsFlow):
    """The active probes: off unless the user turns them on (docs/audit.md)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self.async_step_audit()

    async def async_step_audit(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The audit's own step id: "init" is the router's in strings.json."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="audit",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_ACTIVE_PROBES, default=False): bool}),
                self.config_entry.options,
            ),
        )
