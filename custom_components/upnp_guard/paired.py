"""Paired agents known to this Home Assistant: who signs their requests and who checks
their events (docs/protocol.md, "Authentication (paired mode)").

An agent entry with a key registers a `PairedAgent` under its netloc (host:port of its
description URL, which is where its control and event URLs live) while it is loaded.
The notify servers' event handler is shared by every device reached through one local
address, so its requests go through a `RoutingRequester`: a SUBSCRIBE, renewal or
UNSUBSCRIBE to a paired agent is signed with that agent's key, any other request goes
out as before. NOTIFYs for a paired agent's subscriptions must pass its `EventVerifier`
(notify_server.py); the refusals are counted here per reason, with the times of the recent ones
so a burst of forged events can raise a repair issue.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from time import monotonic
from typing import Final, override
from urllib.parse import urlsplit

from async_upnp_client.client import UpnpRequester
from async_upnp_client.const import HttpRequest, HttpResponse
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .agent_auth import UNAUTHORIZED, AgentKey, EventVerifier, SigningRequester, proves_key
from .const import DOMAIN
from .transport import device_requester

PAIRED_AGENTS: HassKey[PairedAgents] = HassKey(f"{DOMAIN}_paired_agents")
# A repair issue when this many events of one agent were refused within the window: one
# stray refusal (an event that overtook a resubscription) is no attack, a stream is.
FORGED_EVENTS_THRESHOLD: Final = 5
FORGED_EVENTS_WINDOW_S: Final = 600


def netloc(url: str) -> str:
    """host:port of a URL, lower case (the key agents are registered under)."""
    parts = urlsplit(url)
    return (parts.netloc or "").lower()


class PairedAgent(UpnpRequester):
    """One loaded paired agent: the requester that signs for it, its event verifier and
    the events it refused. A request the agent still refuses after the signing
    requester's one retry with a plain 401 (the key is no longer accepted) calls
    `on_key_refused` (the entry starts its reauth flow); a 401 that proves the key (it
    names the boot id or the last counter: a request bound to a reserved freshness is
    not retried) does not."""

    def __init__(
        self,
        entry_id: str,
        requester: SigningRequester,
        verifier: EventVerifier,
        *,
        on_burst: Callable[[], None] = lambda: None,
        on_key_refused: Callable[[], None] = lambda: None,
    ) -> None:
        # Called on every refused event (the entry's "rejected events" sensor).
        self.on_rejected: Callable[[], None] = lambda: None
        # The boot id to sign with, from the device's own ssdp:alive (connection.py).
        self.learn_boot_id: Callable[[int], None] = lambda _boot_id: None
        self.entry_id = entry_id
        self.requester = requester
        self.verifier = verifier
        # Called when refused events keep arriving (the entry raises its repair issue).
        self.on_burst = on_burst
        self.on_key_refused = on_key_refused
        self.rejected: Counter[str] = Counter()
        # A key rotation is in flight: a request refused meanwhile (signed with the old
        # key just after the agent took the new one) is no reason for a reauth flow.
        self.rotating = False
        self._recent: deque[float] = deque(maxlen=FORGED_EVENTS_THRESHOLD)

    @override
    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        response = await self.requester.async_http_request(http_request)
        if (
            response.status_code == UNAUTHORIZED
            and http_request.method not in ("GET", "HEAD")
            and not proves_key(response.headers)
            and not self.rotating
        ):
            self.on_key_refused()
        return response

    def use_key(self, key: AgentKey) -> None:
        """The agent took `key` (rotation): sign and verify with it from now on."""
        self.requester.use_key(key)
        self.verifier.use_key(key)

    def reject(self, reason: str, now: float | None = None) -> bool:
        """Count a refused event; True when refusals now keep arriving (repair issue)."""
        self.rejected[reason] += 1
        self.on_rejected()
        self._recent.append(monotonic() if now is None else now)
        return (
            len(self._recent) == FORGED_EVENTS_THRESHOLD
            and self._recent[-1] - self._recent[0] <= FORGED_EVENTS_WINDOW_S
        )

    @property
    def rejected_total(self) -> int:
        return self.rejected.total()


class PairedAgents:
    """The loaded paired agents by netloc."""

    def __init__(self) -> None:
        self._agents: dict[str, PairedAgent] = {}

    def register(self, url: str, agent: PairedAgent) -> None:
        self._agents[netloc(url)] = agent

    def unregister(self, url: str, agent: PairedAgent) -> None:
        if self._agents.get(netloc(url)) is agent:
            del self._agents[netloc(url)]

    def for_url(self, url: str) -> PairedAgent | None:
        return self._agents.get(netloc(url))


def paired_agents(hass: HomeAssistant) -> PairedAgents:
    if (agents := hass.data.get(PAIRED_AGENTS)) is None:
        agents = hass.data[PAIRED_AGENTS] = PairedAgents()
    return agents


def paired_requester(hass: HomeAssistant, location: str) -> UpnpRequester:
    """The requester for the device at `location`: signing if it is a loaded paired
    agent, else the one device requester."""
    agent = paired_agents(hass).for_url(location)
    return device_requester(hass) if agent is None else agent


class RoutingRequester(UpnpRequester):
    """Signs requests to paired agents with their key; the rest go out unchanged."""

    def __init__(self, inner: UpnpRequester, agents: PairedAgents) -> None:
        self._inner = inner
        self._agents = agents

    @override
    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        agent = self._agents.for_url(http_request.url)
        requester = self._inner if agent is None else agent
        return await requester.async_http_request(http_request)
