"""Router errors into Home Assistant errors: one translator per layer.

The poll raises `UpdateFailed` (the entry goes unavailable; an unreadable table also has
its repair issue); a router action (service) raises `HomeAssistantError` with a
translation key chosen by the UPnP error code. Nothing else turns a router's answer into
a Home Assistant error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from ..const import DOMAIN
from ..lan_text import clean
from ..transport import TRANSPORT_ERRORS
from .const import ERR_CONFLICT, ERR_NOT_AUTHORIZED, ERR_ONLY_PERMANENT_LEASES
from .listing import upnp_error_code

# UPnP error codes of a refused action with their own message (strings.json
# "exceptions"); any other failure is router_action_failed.
_ACTION_ERRORS: dict[int, str] = {
    ERR_NOT_AUTHORIZED: "router_not_authorized",
    ERR_CONFLICT: "router_mapping_conflict",
    ERR_ONLY_PERMANENT_LEASES: "router_only_permanent_leases",
}


class TableUnreadable(Exception):
    """The router answered, but its port-mapping table could not be read."""


def update_failed(err: Exception) -> UpdateFailed:
    """The poll failed: the table could not be read, or the router not reached."""
    if isinstance(err, TableUnreadable):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="router_table_unreadable",
            translation_placeholders={"error": clean(err.__cause__)},
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="router_unreachable",
        translation_placeholders={"error": clean(err)},
    )


def action_failed(err: Exception) -> HomeAssistantError:
    """A router action failed: its message by UPnP error code."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=_ACTION_ERRORS.get(upnp_error_code(err) or 0, "router_action_failed"),
        translation_placeholders={"error": clean(err)},  # the router's fault text
    )


def router_action[**P, R](
    func: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate a router action: what the router or the network raises becomes
    `action_failed`; Home Assistant's own errors (bad input) pass unchanged."""

    @wraps(func)
    async def handler(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await func(*args, **kwargs)
        except TRANSPORT_ERRORS as err:
            raise action_failed(err) from err

    return handler
