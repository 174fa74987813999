"""Event entities of appliance entries: momentary notifications such as a button press.

BinaryInput's PressCount grows by one on every press (or closing): an event fires for
each increase seen in a live GENA event. A device coalesces presses while a NOTIFY is in
flight, so one event may carry a jump of several presses; each press still becomes its
own state change of the event entity (one state write per press, with its own
`press_count`), because automations trigger on state changes, and several events
written at once would reach them as one. The initial event of a (re)subscription only
re-bases the count, so a reconnect never replays old presses, and a lower count (the
device rebooted) re-bases too.
"""

from __future__ import annotations

from dataclasses import dataclass

from async_upnp_client.client import UpnpDevice, UpnpService
from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..lan_text import get_logger
from .connection import ApplianceConfigEntry, ApplianceConnection
from .const import BINARY_INPUT
from .entity import UpnpEntityDescription, UpnpGuardEntity, offers, state_value

_LOGGER = get_logger(__name__)

EVENT_PRESS = "press"
# A burst of presses between two events still fires once per press, up to this bound
# (a device must not be able to make Home Assistant loop on a huge jump). Our agent
# carries a burst of 40 presses made back to back in jumps well below it; beyond it,
# only the latest presses fire and the skipped ones are logged.
MAX_EVENTS_PER_NOTIFY = 64


@dataclass(frozen=True, kw_only=True)
class UpnpEventEntityDescription(UpnpEntityDescription, EventEntityDescription):
    """Events from a counter state variable."""


PRESS = UpnpEventEntityDescription(
    key="press",
    translation_key="press",
    service_type=BINARY_INPUT,
    exists_fn=offers(BINARY_INPUT, "PressCount"),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One event entity per input with a press counter."""
    async_add_entities(UpnpPressEvent.for_each_node(entry.runtime_data, PRESS))


class UpnpPressEvent(UpnpGuardEntity, EventEntity):
    """Fires `press` for every PressCount increase."""

    entity_description: UpnpEventEntityDescription

    def __init__(
        self,
        connection: ApplianceConnection,
        node: UpnpDevice,
        description: UpnpEventEntityDescription,
    ) -> None:
        super().__init__(connection, node, description)
        self._attr_event_types = [EVENT_PRESS]
        self._count = self._current_count()

    def _current_count(self) -> int | None:
        value = state_value(self.node, BINARY_INPUT, "PressCount")
        return None if value is None else int(value)

    def _handle_state_change(self, service: UpnpService, resync: bool) -> None:
        if service.device is not self.node:
            return
        count = self._current_count()
        previous, self._count = self._count, count
        if not resync and count is not None and previous is not None and count > previous:
            first = max(previous + 1, count - MAX_EVENTS_PER_NOTIFY + 1)
            if first > previous + 1:
                _LOGGER.warning(
                    "%s: %d presses arrived in one event; only the last %d fire",
                    self.entity_id,
                    count - previous,
                    MAX_EVENTS_PER_NOTIFY,
                )
            for press in range(first, count + 1):
                self._trigger_event(EVENT_PRESS, {"press_count": press})
                self.async_write_ha_state()
            return
        self.async_write_ha_state()
