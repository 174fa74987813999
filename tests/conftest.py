"""Shared test configuration.

Tests that use Home Assistant on the simulated LAN must request `ha_host` before `hass`
(see tests/lan/fixtures.py), so nothing here is autouse that would create `hass` early.
"""

from __future__ import annotations

# Home Assistant finds the integration through this package (see STYLE.md).
import custom_components.upnp_guard  # noqa: F401

pytest_plugins = ["tests.lan.fixtures", "tests.lan.agent"]
