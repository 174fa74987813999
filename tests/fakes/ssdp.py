"""Stands in for Home Assistant's SSDP scanner (tests without a LAN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant


@dataclass
class SsdpHub:
    """Stands in for HA's SSDP scanner: records callbacks so tests can announce."""

    callbacks: list[tuple[Callable[..., Any], dict[str, str]]] = field(default_factory=list)
    discoveries: dict[str, list[Any]] = field(default_factory=dict)

    async def register(
        self, hass: HomeAssistant, cb: Callable[..., Any], match: dict[str, str]
    ) -> Callable[[], None]:
        entry = (cb, match)
        self.callbacks.append(entry)
        return lambda: self.callbacks.remove(entry)

    async def by_st(self, hass: HomeAssistant, st: str) -> list[Any]:
        return self.discoveries.get(st, [])

    async def announce(self, info: Any, change: Any) -> None:
        for cb, match in list(self.callbacks):
            if match.get("_udn") in (None, info.ssdp_udn):
                await cb(info, change)
