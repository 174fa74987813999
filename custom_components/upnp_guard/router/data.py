"""What a loaded router entry holds, and its typed config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_upnp_client.client import UpnpDevice
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant

from ..const import DOMAIN, is_router_entry

if TYPE_CHECKING:
    from .coordinator import RouterCoordinator
    from .events import RouterEvents


@dataclass(slots=True)
class RouterData:
    """A loaded router entry: the device, its coordinator and its GENA subscriptions."""

    device: UpnpDevice
    coordinator: RouterCoordinator
    events: RouterEvents


type RouterConfigEntry = ConfigEntry[RouterData]


def router_entries(hass: HomeAssistant) -> list[RouterConfigEntry]:
    """Every router entry, loaded or not (by the kind in its data)."""
    return [
        entry for entry in hass.config_entries.async_entries(DOMAIN) if is_router_entry(entry.data)
    ]


def loaded_router(hass: HomeAssistant, entry_id: str) -> RouterConfigEntry | None:
    """The router entry with this id if it is loaded (None for any other entry)."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if (
        entry is None
        or entry.domain != DOMAIN
        or not is_router_entry(entry.data)
        or entry.state is not ConfigEntryState.LOADED
    ):
        return None
    router: RouterConfigEntry = entry
    return router
