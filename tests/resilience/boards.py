"""The board the resilience tests run (an open agent: a relay and a window contact)."""

from __future__ import annotations

from tests.lan.agent import board_config

PORCH_BOARD = board_config("Porch agent", "relay", "window")
WINDOW = "binary_sensor.window_input"
RELAY = "switch.relay"
MAPPINGS = "sensor.upnp_guard_test_router_port_mappings"
