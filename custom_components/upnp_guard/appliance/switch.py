"""Switches of appliance entries: SwitchPower without Dimming (a BinaryLight)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .connection import ApplianceConfigEntry
from .const import DIMMING, SWITCH_POWER
from .entity import UpnpEntityDescription, UpnpGuardEntity, state_flag


@dataclass(frozen=True, kw_only=True)
class UpnpSwitchEntityDescription(UpnpEntityDescription, SwitchEntityDescription):
    """A switch made of SwitchPower."""


POWER = UpnpSwitchEntityDescription(
    key="switch_power",
    translation_key="power",
    service_type=SWITCH_POWER,
    # With Dimming the same SwitchPower is the light entity's on/off.
    exists_fn=lambda node: not node.has_service(DIMMING),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One switch per device with SwitchPower and no Dimming."""
    async_add_entities(UpnpSwitch.for_each_node(entry.runtime_data, POWER))


class UpnpSwitch(UpnpGuardEntity, SwitchEntity):
    """SwitchPower:1: Status is evented, SetTarget changes it."""

    _attr_name = None
    entity_description: UpnpSwitchEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The Status variable (not Target: Status is what the load really does)."""
        return state_flag(self.node, SWITCH_POWER, "Status")

    async def async_turn_on(self, **kwargs: Any) -> None:
        """SetTarget(true)."""
        await self.async_call(SWITCH_POWER, "SetTarget", newTargetValue=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """SetTarget(false)."""
        await self.async_call(SWITCH_POWER, "SetTarget", newTargetValue=False)
