"""The board the resilience tests run (an open agent: a relay and a window contact), and
the press recorder of the tests that count button presses through Home Assistant."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from tests.lan.agent import board_config

PORCH_BOARD = board_config("Porch agent", "relay", "window")
WINDOW = "binary_sensor.window_input"
RELAY = "switch.relay"
MAPPINGS = "sensor.upnp_guard_test_router_port_mappings"


def track_presses(
    hass: HomeAssistant, entity_id: str, on_press: Callable[[int], None]
) -> CALLBACK_TYPE:
    """Call `on_press(press_count)` once for each press the event entity accepts; returns
    the function that stops it."""
    fired_at: set[str] = set()

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        # An accepted event has a new timestamp as its state; the entity re-added after
        # a rebuild restores the last one (a restored state, not an event).
        if new is not None and "press_count" in new.attributes and new.state not in fired_at:
            fired_at.add(new.state)
            on_press(new.attributes["press_count"])

    return async_track_state_change_event(hass, [entity_id], record)
