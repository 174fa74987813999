"""The board the resilience tests run (an open agent: a relay and a window contact)."""

from __future__ import annotations

from typing import Any

PORCH_BOARD: dict[str, Any] = {
    "friendly_name": "Porch agent",
    "security_mode": "open",
    "services": [
        {"kind": "switch", "name": "relay", "friendly_name": "Relay", "pin": 5},
        {"kind": "contact", "name": "window", "friendly_name": "Window", "pin": 4},
    ],
}
WINDOW = "binary_sensor.window_input"
RELAY = "switch.relay"
MAPPINGS = "sensor.upnp_guard_test_router_port_mappings"
