"""The audit entry's coordinator: passive runs every PASSIVE_INTERVAL_S and after SSDP
discoveries (debounced: at most one run per DISCOVERY_DEBOUNCE_S), then publishes what
changed (publish.py: repair issues, events)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..lan_text import get_logger
from .const import DISCOVERY_DEBOUNCE_S, PASSIVE_INTERVAL_S
from .publish import FindingPublisher
from .runner import AuditReport, AuditRunner

if TYPE_CHECKING:
    from . import AuditConfigEntry

_LOGGER = get_logger(__name__)


class AuditCoordinator(DataUpdateCoordinator[AuditReport]):
    """Runs the audit; its data is the last report."""

    def __init__(self, hass: HomeAssistant, entry: AuditConfigEntry, runner: AuditRunner) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name="UPnP Guard network audit",
            update_interval=timedelta(seconds=PASSIVE_INTERVAL_S),
            request_refresh_debouncer=Debouncer(
                hass, _LOGGER, cooldown=DISCOVERY_DEBOUNCE_S, immediate=False
            ),
        )
        self.runner = runner
        self.publisher = FindingPublisher(hass, entry.entry_id)

    async def _async_update_data(self) -> AuditReport:
        report = await self.runner.async_run()
        self.publisher.publish(report.findings)
        return report
