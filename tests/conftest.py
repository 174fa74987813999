"""Shared test configuration.

Tests that use Home Assistant on the simulated LAN must request `ha_host` before `hass`
(see tests/lan/fixtures.py), so nothing here is autouse that would create `hass` early
(the autouse check below uses only `caplog`).
"""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import patch

import pytest

# Home Assistant finds the integration through this package (see STYLE.md).
import custom_components.upnp_guard  # noqa: F401

pytest_plugins = ["tests.lan.fixtures", "tests.lan.agent"]

# Home Assistant logs this when an integration uses an API it has deprecated
# (helpers/frame.py report_usage); left alone, it breaks in a later release.
DEPRECATION_REPORT = "Detected that custom integration 'upnp_guard'"


@pytest.fixture(autouse=True)
def no_deprecated_home_assistant_api(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Fail a test during which Home Assistant reported our use of a deprecated API."""
    yield
    reports = [
        record.getMessage()
        for phase in ("setup", "call")
        for record in caplog.get_records(phase)
        if DEPRECATION_REPORT in record.getMessage()
    ]
    assert not reports, reports


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Snapshot every entity, also those disabled by default (as core's fixture does)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=lambda: property(lambda _self: True),
    ):
        yield
