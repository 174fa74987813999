"""Pairing with our agent (docs/protocol.md, "Authentication (paired mode)").

The config flow reads an agent's SecurityMode openly (GetInfo is a read-only action any
control point may call); a `paired` agent is added only once the key the user entered
passes an authenticated read: the same GetInfo, signed through `SigningRequester`. A
wrong key gets a plain 401 from the agent, which is the only answer taken as "wrong key";
anything else (unreachable, a fault) stays a connection problem.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import StrEnum

from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.exceptions import UpnpActionResponseError, UpnpError, UpnpResponseError
from homeassistant.core import HomeAssistant

from .. import lan_text
from ..agent_auth import UNAUTHORIZED, AgentKey, EventVerifier, SigningRequester
from ..paired import PairedAgent, paired_agents
from ..transport import device_requester
from .const import AGENT_DEVICE_TYPE, AGENT_INFO
from .description import UdnKeyedFactory

# UPnP "Action not authorized", the SOAP fault a refusal may come as (UDA 1.1, 3.2.2).
ACTION_NOT_AUTHORIZED = 606
# GetInfo's BootId is a ui4.
MAX_BOOT_ID = 2**32 - 1


class KeyCheck(StrEnum):
    """The answer of an authenticated read."""

    ACCEPTED = "accepted"
    REFUSED = "wrong_key"
    UNREACHABLE = "cannot_connect"


class BootId:
    """The boot id a `SigningRequester` signs with; refusals and SSDP update it."""

    def __init__(self, value: int = 0) -> None:
        self.value = value

    def get(self) -> int:
        return self.value

    def learn(self, value: int) -> None:
        self.value = value


def _boot_id(value: object) -> int:
    text = str(value).strip() if value is not None else ""
    if text.isdecimal() and len(text) <= 10 and int(text) <= MAX_BOOT_ID:
        return int(text)
    return 0


async def async_agent_info(device: UpnpDevice) -> tuple[str, int] | None:
    """Our agent's (SecurityMode, BootId), read openly; None: not an agent, or no answer."""
    info = device.find_service(AGENT_INFO) if device.device_type == AGENT_DEVICE_TYPE else None
    if info is None or not info.has_action("GetInfo"):
        return None
    with contextlib.suppress(UpnpError, ClientError, OSError, TimeoutError):
        result = await info.action("GetInfo").async_call()
        return lan_text.clean(result.get("SecurityMode"), 16), _boot_id(result.get("BootId"))
    return None


def signing_requester(hass: HomeAssistant, key: AgentKey, boot: BootId) -> SigningRequester:
    """The one device requester of this Home Assistant, signing for one agent."""
    return SigningRequester(device_requester(hass), key, boot.get, boot.learn)


async def async_check_key(
    hass: HomeAssistant, location: str, key: AgentKey, boot_id: int
) -> KeyCheck:
    """Whether the agent at `location` accepts `key`: a signed GetInfo on AgentInfo."""
    try:
        device = await UdnKeyedFactory(
            signing_requester(hass, key, BootId(boot_id)), non_strict=True
        ).async_create_device(location)
    except UpnpError, ClientError, OSError, TimeoutError:
        return KeyCheck.UNREACHABLE
    return await async_signed_read(device)


async def async_signed_read(device: UpnpDevice) -> KeyCheck:
    """GetInfo through the device's requester (signing for a paired agent)."""
    info = device.find_service(AGENT_INFO)
    if info is None or not info.has_action("GetInfo"):
        return KeyCheck.UNREACHABLE
    try:
        await info.action("GetInfo").async_call()
    except UpnpActionResponseError as err:
        if err.status == UNAUTHORIZED or err.error_code == ACTION_NOT_AUTHORIZED:
            return KeyCheck.REFUSED
        return KeyCheck.UNREACHABLE
    except UpnpResponseError as err:
        return KeyCheck.REFUSED if err.status == UNAUTHORIZED else KeyCheck.UNREACHABLE
    except UpnpError, ClientError, OSError, TimeoutError:
        return KeyCheck.UNREACHABLE
    return KeyCheck.ACCEPTED


def async_register_agent(
    hass: HomeAssistant,
    entry_id: str,
    location: str,
    key: AgentKey,
    *,
    on_burst: Callable[[], None],
    on_key_refused: Callable[[], None],
) -> PairedAgent:
    """Sign this agent's requests and check its events from now on (until unregistered).

    The boot id starts unknown (0): the agent's first refusal names its boot id only to a
    holder of the key, and the signing requester retries with it.
    """
    boot = BootId()
    agent = PairedAgent(
        entry_id,
        signing_requester(hass, key, boot),
        EventVerifier(key),
        on_burst=on_burst,
        on_key_refused=on_key_refused,
    )
    agent.learn_boot_id = boot.learn
    paired_agents(hass).register(location, agent)
    return agent
