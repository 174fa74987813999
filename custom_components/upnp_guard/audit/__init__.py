"""The network audit: one entry per Home Assistant (docs/audit.md).

Inventory of UPnP root devices, passive checks (every PASSIVE_INTERVAL_S and after SSDP
discoveries), findings as repair issues, events, a score sensor, a report (action and
diagnostics). This module wires: load the data files, the runner, the coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from homeassistant.components import ssdp
from homeassistant.components.ssdp.scanner import SsdpChange
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo

from ..const import DOMAIN
from ..lan_text import clean, get_logger, markdown
from .const import CONF_ACTIVE_PROBES, ISSUE_STACKS_FILE_INVALID, USER_STACKS_FILE
from .coordinator import AuditCoordinator
from .router_findings import router_findings
from .runner import AuditRunner
from .stacks import StackDatabase, StackFileError, load_stack_file, merged, shipped_stack_file

_LOGGER = get_logger(__name__)

PLATFORMS: list[Platform] = [Platform.SENSOR]


@dataclass(slots=True)
class AuditData:
    """A loaded audit entry."""

    coordinator: AuditCoordinator


type AuditConfigEntry = ConfigEntry[AuditData]


def load_databases(user_file: Path) -> tuple[StackDatabase, str | None]:
    """The shipped data plus the user's file when there is one (blocking).

    A user file that does not validate is left out as a whole: the error is returned
    (for a repair issue) and the shipped data still runs. A broken shipped file is a bug
    of ours and raises.
    """
    shipped = load_stack_file(shipped_stack_file())
    if not user_file.exists():
        return shipped, None
    try:
        return merged(shipped, load_stack_file(user_file, known=shipped.stacks)), None
    except StackFileError as err:
        return shipped, str(err)


async def async_setup_entry(hass: HomeAssistant, entry: AuditConfigEntry) -> bool:
    """Load the data, take the first inventory, run the checks, set up the sensor."""
    database, error = await hass.async_add_executor_job(
        load_databases, Path(hass.config.path(USER_STACKS_FILE))
    )
    if error is None:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_STACKS_FILE_INVALID)
    else:
        _LOGGER.error("%s is not used: %s", USER_STACKS_FILE, error)
        ir.async_create_issue(
            hass,
            DOMAIN,
            ISSUE_STACKS_FILE_INVALID,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_STACKS_FILE_INVALID,
            translation_placeholders={"file": USER_STACKS_FILE, "error": markdown(clean(error))},
        )
    runner = AuditRunner(hass, database, extra_findings=[router_findings])
    coordinator = AuditCoordinator(hass, entry, runner)
    # The first run is passive: probes take seconds per device and setup must not wait.
    await coordinator.async_config_entry_first_refresh()
    runner.probes.enabled = bool(entry.options.get(CONF_ACTIVE_PROBES, False))
    if runner.probes.enabled:  # the probing run follows (debounced), in the background
        entry.async_create_background_task(
            hass, coordinator.async_request_refresh(), "upnp_guard audit probes"
        )
    entry.runtime_data = AuditData(coordinator=coordinator)

    @callback
    def on_discovery(info: SsdpServiceInfo, change: SsdpChange) -> None:
        # Only a device the inventory lacks: embedded devices announce their own UDNs
        # at the root's location, and every device re-announces itself periodically.
        if change is SsdpChange.ALIVE and not runner.inventory.knows_location(
            info.ssdp_location or ""
        ):
            hass.async_create_task(coordinator.async_request_refresh(), eager_start=False)

    entry.async_on_unload(await ssdp.async_register_callback(hass, on_discovery))
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_options_updated(hass: HomeAssistant, entry: AuditConfigEntry) -> None:
    """Probes on or off: applies from the next run, which starts now."""
    coordinator: AuditCoordinator = entry.runtime_data.coordinator
    coordinator.runner.probes.enabled = bool(entry.options.get(CONF_ACTIVE_PROBES, False))
    await coordinator.async_request_refresh()


async def async_unload_entry(hass: HomeAssistant, entry: AuditConfigEntry) -> bool:
    """Unload; the findings' repair issues go with the entry."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        coordinator: AuditCoordinator = entry.runtime_data.coordinator
        await coordinator.async_shutdown()
        coordinator.publisher.clear()
    return unloaded
