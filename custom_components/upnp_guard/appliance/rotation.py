"""Key rotation of a paired agent, from its entry's options flow (docs/protocol.md, "Key
rotation"; docs/pairing in the README).

A fresh 32-byte key from `secrets.token_bytes`, sealed with the current key and bound to
the boot id and counter that the signed SetKey request will carry: they are reserved on
the entry's `SigningRequester` first, and the request is sent inside
`carrying(reservation)` through async-upnp-client on the entry's own device (so through
its `PairedAgent`, the signing requester and the guarded transport, like every other
request to it). A refusal that proves the key (another boot id, a used counter: the
requester has learned the right ones) is tried once more with a new reservation and a
new seal.

On 200 the live connection signs and verifies with the new key at once and the entry's
data keeps it: no reload (subscriptions stay; their next renewal is signed with the new
key). A transport error leaves it unclear whether the agent took the key (the answer may
have been lost): a signed read with the new key decides. Anything else leaves the old
key stored and in use; the agent still accepts it (SetKey changes nothing unless it
answers 200). A plain 401 is just as unclear: the transport resends a request whose
connection broke (transport.py), and if the agent took the first copy it checks the
second against the new key and refuses it; the read with the new key decides there too.
(A 401 naming the boot id or the last counter is not unclear: the agent checked our MAC
with the old key, so it still holds that one.)
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any

import probatio as vol
from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.exceptions import UpnpError, UpnpResponseError
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.core import HomeAssistant

from ..agent_auth import KEY_BYTES, UNAUTHORIZED, AgentKey, format_key
from ..const import CONF_KEY, CONF_LOCATION
from ..lan_text import markdown
from ..paired import PairedAgent
from .connection import ApplianceConfigEntry
from .const import AGENT_INFO
from .pairing import KeyCheck, async_check_key

SET_KEY = "SetKey"
SEALED_KEY_ARG = "NewSealedKey"
# One more try after a refusal that proves the key (the agent rebooted since, or our
# counter fell behind): a second one would mean something else is wrong.
ATTEMPTS = 2


class Rotation(StrEnum):
    """The outcome of a rotation; the failures are the options flow's error keys."""

    ROTATED = "rotated"
    REFUSED = "rotate_refused"
    UNREACHABLE = "cannot_connect"


async def _async_send(
    agent: PairedAgent, device: UpnpDevice, new: bytes
) -> tuple[Rotation | None, bool]:
    """SetKey with `new` sealed to its own request, and whether the outcome is unclear
    (a plain 401 or no answer: the agent may hold `new` already, module docstring).
    None: refused with a proven key (the requester has learned the freshness to use)."""
    info = device.find_service(AGENT_INFO)
    if info is None or not info.has_action(SET_KEY):
        return Rotation.REFUSED, False
    requester = agent.requester
    reservation = requester.reserve()
    sealed = requester.key.seal(new, reservation.boot_id, reservation.counter)
    try:
        with requester.carrying(reservation):
            await info.action(SET_KEY).async_call(**{SEALED_KEY_ARG: sealed.hex()})
    except UpnpResponseError as err:
        if err.status != UNAUTHORIZED:
            # A UPnP fault: the agent could not store the key, or it is in open mode.
            return Rotation.REFUSED, False
        return (None, False) if reservation.stale else (Rotation.REFUSED, True)
    except UpnpError, ClientError, OSError, TimeoutError:
        return Rotation.UNREACHABLE, True
    return Rotation.ROTATED, False


async def _async_took(hass: HomeAssistant, entry: ApplianceConfigEntry, new: bytes) -> bool:
    """Whether the agent accepts `new` already: a signed read with it."""
    agent = entry.runtime_data.paired
    assert agent is not None
    check = await async_check_key(
        hass, entry.data[CONF_LOCATION], AgentKey(new), agent.requester.boot_id
    )
    return check is KeyCheck.ACCEPTED


async def _async_rotate(hass: HomeAssistant, entry: ApplianceConfigEntry, new: bytes) -> Rotation:
    agent = entry.runtime_data.paired
    assert agent is not None
    for _ in range(ATTEMPTS):
        answer, unclear = await _async_send(agent, entry.runtime_data.device, new)
        if unclear and await _async_took(hass, entry, new):
            return Rotation.ROTATED  # only the answer got lost
        if answer is not None:
            return answer
    return Rotation.REFUSED


async def async_rotate_key(
    hass: HomeAssistant, entry: ApplianceConfigEntry, new: bytes
) -> Rotation:
    """Install `new` on the entry's loaded paired agent (module docstring)."""
    agent = entry.runtime_data.paired
    assert agent is not None
    agent.rotating = True
    try:
        answer = await _async_rotate(hass, entry, new)
    finally:
        agent.rotating = False
    if answer is not Rotation.ROTATED:
        return answer
    agent.use_key(AgentKey(new))
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_KEY: format_key(new)})
    return Rotation.ROTATED


class KeyRotationSteps(OptionsFlow):
    """The key-rotation steps of a paired agent's options (options_flow.py).

    The new key is shown once, in the description of the `key_rotated` step that follows
    a done rotation (the frontend shows an options flow's closing message as a fixed
    "options saved" text, so the key could not be shown there); it is already stored and
    in use when that step shows. Submitting it closes the flow; the options stay as
    they were (the key lives in the entry's data)."""

    def __init__(self) -> None:
        self._new_key: str | None = None

    async def async_step_rotate_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then rotate."""
        entry: ApplianceConfigEntry = self.config_entry
        name = markdown(entry.title)
        errors: dict[str, str] = {}
        if user_input is not None:
            if entry.state is not ConfigEntryState.LOADED or entry.runtime_data.paired is None:
                return self.async_abort(reason="agent_not_loaded")
            if entry.runtime_data.paired.rotating:
                # Another options flow is rotating this agent's key right now.
                return self.async_abort(reason="rotation_in_progress")
            new = secrets.token_bytes(KEY_BYTES)
            answer = await async_rotate_key(self.hass, entry, new)
            if answer is Rotation.ROTATED:
                self._new_key = format_key(new)
                return await self.async_step_key_rotated()
            if answer is Rotation.REFUSED:
                errors["base"] = "rotate_refused"
            else:
                errors["base"] = "cannot_connect"
        return self.async_show_form(
            step_id="rotate_key",
            data_schema=vol.Schema({}),
            description_placeholders={"name": name},
            errors=errors,
        )

    async def async_step_key_rotated(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The new key, shown this once."""
        if user_input is not None or self._new_key is None:
            return self.async_create_entry(data=dict(self.config_entry.options))
        return self.async_show_form(
            step_id="key_rotated",
            data_schema=vol.Schema({}),
            description_placeholders={
                "name": markdown(self.config_entry.title),
                "key": self._new_key,
            },
            last_step=True,
        )
