"""Config and options flow steps for router (IGD) entries.

`RouterFlowMixin` is mixed into the integration's ConfigFlow (config_flow.py), which
routes IGD discoveries to `async_step_router_ssdp`.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult, OptionsFlow
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo


class RouterFlowMixin:
    """Steps that add a router entry."""

    async def async_step_router_ssdp(self, discovery_info: SsdpServiceInfo) -> ConfigFlowResult:
        """Router discovered over SSDP."""
        raise NotImplementedError


class RouterOptionsFlow(OptionsFlow):
    """Port-mapping policy for a router entry."""


def router_options_flow(entry: ConfigEntry) -> OptionsFlow:
    """Options flow for a router entry."""
    return RouterOptionsFlow()
