"""Router entries: IGD port mappings, WAN status and DNS watch."""

from __future__ import annotations

from urllib.parse import urlsplit

from homeassistant.components import network
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from ..const import CONF_LOCATION, DOMAIN
from ..runtime import async_check_identity, async_connect
from .coordinator import RouterCoordinator
from .data import RouterConfigEntry, RouterData
from .events import RouterEvents
from .igd import IgdClient, NotAnIgd
from .leases import router_store

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: RouterConfigEntry) -> bool:
    """Connect to the router, take the first inventory and set up its platforms."""
    device = await async_connect(hass, entry.data)
    # Another device at the address: wait for the router, remove nothing.
    async_check_identity(hass, entry, device)
    try:
        client = IgdClient(device)
    except NotAnIgd as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="router_not_igd",
            translation_placeholders={"device_type": device.device_type},
        ) from err
    router_host = urlsplit(str(entry.data[CONF_LOCATION])).hostname or ""
    ha_ip = await network.async_get_source_ip(hass, target_ip=router_host)
    coordinator = RouterCoordinator(hass, entry, client, ha_ip)
    await coordinator.async_config_entry_first_refresh()
    # Events come to the address the kernel routes to the router (the one it can reach).
    events = RouterEvents(hass, coordinator, ha_ip)
    await events.async_start()
    entry.runtime_data = RouterData(device=device, coordinator=coordinator, events=events)

    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, device.udn)},
        manufacturer=device.manufacturer,
        model=device.model_name,
        name=device.friendly_name,
        serial_number=device.serial_number,
        # Routers often send an empty or relative presentationURL; only a full http(s)
        # URL is a usable link (and the device registry rejects anything else).
        configuration_url=(
            device.presentation_url
            if urlsplit(device.presentation_url or "").scheme in ("http", "https")
            else None
        ),
    )
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    try:
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    except BaseException:
        # A failed setup is never unloaded: its subscriptions and notify server would leak.
        await events.async_stop()
        raise
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: RouterConfigEntry) -> None:
    """A new location (the router was rediscovered elsewhere) reconnects; a new policy
    (options) applies at once, without a reload."""
    if entry.data[CONF_LOCATION] != entry.runtime_data.device.device_url:
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    await entry.runtime_data.coordinator.async_refresh()


async def async_unload_entry(hass: HomeAssistant, entry: RouterConfigEntry) -> bool:
    """Unload a router entry (owned mappings stay until their lease runs out)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.events.async_stop()
        await entry.runtime_data.coordinator.async_shutdown()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: RouterConfigEntry) -> None:
    """Forget what the entry stored (owned mappings, first-seen times, DNS baseline)."""
    await router_store(hass, entry.entry_id).async_remove()
