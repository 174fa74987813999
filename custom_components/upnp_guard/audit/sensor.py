"""The audit's security score sensor: 100 minus each finding's weight (docs/audit.md),
with the findings per category and per severity in its attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription, SensorStateClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .const import AUDIT_UNIQUE_ID, Severity
from .coordinator import AuditCoordinator
from .findings import counts_by_category

if TYPE_CHECKING:
    from . import AuditConfigEntry

SCORE = SensorEntityDescription(
    key="security_score",
    translation_key="security_score",
    native_unit_of_measurement="points",
    state_class=SensorStateClass.MEASUREMENT,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AuditConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One score sensor for the audit entry."""
    async_add_entities([SecurityScoreSensor(entry.runtime_data.coordinator, entry.entry_id)])


class SecurityScoreSensor(CoordinatorEntity[AuditCoordinator], SensorEntity):
    """The score of the last audit run."""

    _attr_has_entity_name = True
    entity_description = SCORE

    def __init__(self, coordinator: AuditCoordinator, entry_id: str) -> None:
        super().__init__(coordinator)
        self._attr_unique_id = f"{AUDIT_UNIQUE_ID}_{SCORE.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, AUDIT_UNIQUE_ID)},
            name="UPnP network audit",
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def native_value(self) -> int:
        return self.coordinator.data.score

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        findings = self.coordinator.data.findings
        return {
            "findings": len(findings),
            "devices": len(self.coordinator.data.devices),
            **{f"category_{k}": v for k, v in counts_by_category(findings).items()},
            **{
                f"severity_{s.value}": sum(1 for f in findings if f.severity is s) for s in Severity
            },
            "last_run": self.coordinator.data.finished.isoformat(),
        }
