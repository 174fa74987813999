"""Appliance entries: UPnP lights, switches, sensors, inputs and our agents."""

from __future__ import annotations

from async_upnp_client.client import UpnpDevice
from async_upnp_client.exceptions import UpnpConnectionError
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from ..agent_auth import AgentKey, InvalidKey, parse_key
from ..const import CONF_KEY, CONF_LOCATION, DOMAIN
from ..lan_text import markdown
from ..notify import notify_server_pool
from ..paired import PairedAgent, paired_agents
from ..runtime import async_check_identity, is_described, trust_typed_host
from ..transport import TRANSPORT_ERRORS
from .agent_info import open_mode_issue_id
from .connection import ApplianceConfigEntry, ApplianceConnection, async_local_ip_for
from .const import AGENT_DEVICE_TYPE, SECURITY_MODE_PAIRED
from .description import async_load_appliance
from .entity import device_info
from .pairing import KeyCheck, async_agent_info, async_register_agent, async_signed_read

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.LIGHT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.UPDATE,
]


async def async_setup_entry(hass: HomeAssistant, entry: ApplianceConfigEntry) -> bool:
    """Load the description, subscribe to the device's events, set up its platforms."""
    location: str = entry.data[CONF_LOCATION]
    trust_typed_host(hass, entry.data)
    agent = _register_paired_agent(hass, entry)
    try:
        device = await async_load_appliance(hass, location)
        local_ip = await async_local_ip_for(location, hass)
        if agent is not None:
            await _async_check_key(device)
        elif await _async_paired_without_key(device):
            # No longer open: its warning goes; the reauth flow asks for the key.
            ir.async_delete_issue(hass, DOMAIN, open_mode_issue_id(entry.entry_id))
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="key_needed")
    except TRANSPORT_ERRORS as err:
        _unregister(hass, entry, agent)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="device_unreachable",
            translation_placeholders={"location": location},
        ) from err
    except ConfigEntryAuthFailed:
        _unregister(hass, entry, agent)
        raise
    if agent is not None:
        entry.async_on_unload(lambda: _unregister(hass, entry, agent))
    # Another device at the address: wait for ours, keep its devices (no cleanup below).
    async_check_identity(hass, entry, device)
    pool = notify_server_pool(hass)
    event_handler = await pool.async_acquire(local_ip)
    connection = ApplianceConnection(hass, device, event_handler, local_ip, entry.entry_id)
    if agent is not None:
        connection.paired = agent
        agent.on_rejected = connection.async_event_rejected
    try:
        await connection.async_start()
    except TRANSPORT_ERRORS as err:
        # Clean up before raising ConfigEntryNotReady: no half-made subscriptions.
        await connection.async_stop()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="subscribe_failed",
            translation_placeholders={"location": location, "error": repr(err)},
        ) from err
    entry.runtime_data = connection
    # Embedded devices (an agent's lights and sensors) link to their root device.
    root = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **device_info(device)
    )
    connection.root_device_id = root.id
    _async_remove_stale_devices(hass, entry)
    entry.async_on_unload(connection.async_stop)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _register_paired_agent(hass: HomeAssistant, entry: ApplianceConfigEntry) -> PairedAgent | None:
    """An entry with a key: its agent's requests are signed, its events checked."""
    if (text := entry.data.get(CONF_KEY)) is None:
        return None
    try:
        key = AgentKey(parse_key(str(text)))
    except InvalidKey as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="key_refused"
        ) from err

    def on_burst() -> None:
        ir.async_create_issue(
            hass,
            DOMAIN,
            forged_events_issue_id(entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="forged_events",
            # The title came from the device's friendly name: inert in the markdown.
            translation_placeholders={"name": markdown(entry.title)},
        )

    return async_register_agent(
        hass,
        entry.entry_id,
        entry.data[CONF_LOCATION],
        key,
        on_burst=on_burst,
        on_key_refused=lambda: entry.async_start_reauth(hass),
    )


def _unregister(
    hass: HomeAssistant, entry: ApplianceConfigEntry, agent: PairedAgent | None
) -> None:
    if agent is not None:
        paired_agents(hass).unregister(entry.data[CONF_LOCATION], agent)


async def _async_check_key(device: UpnpDevice) -> None:
    """The agent must still accept our key (a signed read); a plain 401 starts reauth."""
    answer = await async_signed_read(device)
    if answer is KeyCheck.REFUSED:
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="key_refused")
    if answer is KeyCheck.UNREACHABLE:
        raise UpnpConnectionError("the agent did not answer a signed read")


async def _async_paired_without_key(device: UpnpDevice) -> bool:
    """Our agent, added in open mode, now in paired mode: it needs its key (reauth)."""
    if device.device_type != AGENT_DEVICE_TYPE:
        return False
    info = await async_agent_info(device)
    return info is not None and info[0] == SECURITY_MODE_PAIRED


def forged_events_issue_id(entry_id: str) -> str:
    """The repair issue of a paired agent whose events keep failing to verify."""
    return f"forged_events_{entry_id}"


def _async_remove_stale_devices(hass: HomeAssistant, entry: ApplianceConfigEntry) -> None:
    """Embedded devices gone from the description (a board's service removed, another
    firmware) leave the registry, with their entities."""
    registry = dr.async_get(hass)
    device = entry.runtime_data.device
    for device_entry in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not is_described(device, device_entry):
            registry.async_remove_device(device_entry.id)


async def async_unload_entry(hass: HomeAssistant, entry: ApplianceConfigEntry) -> bool:
    """Unload an appliance entry (the connection stops through async_on_unload)."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: ApplianceConfigEntry) -> None:
    """A deleted entry's repair issue goes with it."""
    ir.async_delete_issue(hass, DOMAIN, open_mode_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, forged_events_issue_id(entry.entry_id))
