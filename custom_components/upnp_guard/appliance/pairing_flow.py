"""Config flow steps for our agent in paired mode: its key, checked before it is stored.

`pair` asks for the key of a new agent entry and checks it with a signed read before the
entry exists (pairing.py); `reauth_key` asks again when a paired agent refuses the stored
key. The main flow (../config_flow.py) leads here through `_async_create_or_pair`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import probatio as vol
from async_upnp_client.client import UpnpDevice
from homeassistant.config_entries import ConfigFlowResult

from ..agent_auth import AgentKey, InvalidKey, parse_key
from ..const import CONF_KEY, CONF_LOCATION
from .const import SECURITY_MODE_PAIRED
from .pairing import KeyCheck, async_agent_info, async_check_key

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlow

    _FlowBase = ConfigFlow
else:
    _FlowBase = object

# The form that asks for a paired agent's key (base64 of 32 bytes, as the agent printed it).
KEY_SCHEMA = vol.Schema({vol.Required(CONF_KEY): str})


class AgentKeyFlowMixin(_FlowBase):
    """Steps that ask for a paired agent's key."""

    # A paired agent waiting for its key: (friendly name, entry data, boot id read openly).
    _pairing: tuple[str, dict[str, Any], int] | None = None

    async def _async_create_or_pair(
        self, device: UpnpDevice, data: dict[str, Any]
    ) -> ConfigFlowResult:
        """Create the entry, or ask for the key first if the device is a paired agent."""
        info = await async_agent_info(device)
        if info is not None and info[0] == SECURITY_MODE_PAIRED:
            self._pairing = (device.friendly_name, data, info[1])
            self.context["title_placeholders"] = {"name": device.friendly_name}
            return await self.async_step_pair()
        return self.async_create_entry(title=device.friendly_name, data=data)

    async def _async_key_error(self, location: str, text: str, boot_id: int) -> str | None:
        """The form error for a key the user entered, or None if the agent accepts it."""
        try:
            key = AgentKey(parse_key(text))
        except InvalidKey:
            return "invalid_key"
        answer = await async_check_key(self.hass, location, key, boot_id)
        return None if answer is KeyCheck.ACCEPTED else answer.value

    async def async_step_pair(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Our agent obeys only its key: ask for it and check it with a signed read."""
        assert self._pairing is not None
        name, data, boot_id = self._pairing
        errors: dict[str, str] = {}
        if user_input is not None:
            text = str(user_input.get(CONF_KEY, ""))
            error = await self._async_key_error(data[CONF_LOCATION], text, boot_id)
            if error is None:
                return self.async_create_entry(title=name, data={**data, CONF_KEY: text.strip()})
            errors["base"] = error
        return self.async_show_form(
            step_id="pair",
            data_schema=KEY_SCHEMA,
            description_placeholders={"name": name},
            errors=errors,
        )

    async def async_step_reauth_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the agent's key again, check it with a signed read, reload the entry."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            text = str(user_input.get(CONF_KEY, ""))
            error = await self._async_key_error(entry.data[CONF_LOCATION], text, 0)
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_KEY: text.strip()}
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_key",
            data_schema=KEY_SCHEMA,
            description_placeholders={"name": entry.title},
            errors=errors,
        )
