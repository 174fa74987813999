"""Lights of appliance entries: SwitchPower plus Dimming (a DimmableLight)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.light import LightEntity, LightEntityDescription
from homeassistant.components.light.const import ATTR_BRIGHTNESS, ColorMode
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .connection import ApplianceConfigEntry
from .const import DIMMING, SWITCH_POWER
from .entity import UpnpEntityDescription, UpnpGuardEntity, state_flag, state_value

# Dimming:1 load levels are percentages.
MAX_LOAD_LEVEL = 100
MAX_BRIGHTNESS = 255


@dataclass(frozen=True, kw_only=True)
class UpnpLightEntityDescription(UpnpEntityDescription, LightEntityDescription):
    """A light made of SwitchPower and Dimming."""


DIMMABLE_LIGHT = UpnpLightEntityDescription(
    key="dimmable_light",
    translation_key="light",
    service_type=DIMMING,
    exists_fn=lambda node: node.has_service(SWITCH_POWER),
)


def brightness_to_load_level(brightness: int) -> int:
    """HA brightness 1..255 -> load level 1..100 (never 0 for a light asked to be on)."""
    return max(1, min(MAX_LOAD_LEVEL, round(brightness * MAX_LOAD_LEVEL / MAX_BRIGHTNESS)))


def load_level_to_brightness(level: int) -> int:
    """Load level 0..100 -> HA brightness 0..255."""
    return round(max(0, min(MAX_LOAD_LEVEL, level)) * MAX_BRIGHTNESS / MAX_LOAD_LEVEL)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One light per device with SwitchPower and Dimming."""
    async_add_entities(UpnpLight.for_each_node(entry.runtime_data, DIMMABLE_LIGHT))


class UpnpLight(UpnpGuardEntity, LightEntity):
    """On/off from SwitchPower Status, brightness from Dimming LoadLevelStatus."""

    _attr_name = None
    entity_description: UpnpLightEntityDescription
    _attr_color_mode = ColorMode.BRIGHTNESS
    _attr_supported_color_modes = frozenset({ColorMode.BRIGHTNESS})  # type: ignore[assignment]

    @property
    def is_on(self) -> bool | None:
        """SwitchPower Status."""
        return state_flag(self.node, SWITCH_POWER, "Status")

    @property
    def brightness(self) -> int | None:
        """Dimming LoadLevelStatus scaled to 0..255; unknown when it is no number (an SCPD
        that types it as a string lets a device send any text)."""
        value = state_value(self.node, DIMMING, "LoadLevelStatus")
        if value is None:
            return None
        try:
            level = int(value)
        except TypeError, ValueError, OverflowError:
            return None
        return load_level_to_brightness(level)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set the level first so the light never flashes at its old level."""
        if ATTR_BRIGHTNESS in kwargs:
            await self.async_call(
                DIMMING,
                "SetLoadLevelTarget",
                newLoadlevelTarget=brightness_to_load_level(kwargs[ATTR_BRIGHTNESS]),
            )
        await self.async_call(SWITCH_POWER, "SetTarget", newTargetValue=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """SetTarget(false); the level is kept for the next turn_on."""
        await self.async_call(SWITCH_POWER, "SetTarget", newTargetValue=False)
