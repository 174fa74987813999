"""Fixtures for the firmware's end-to-end tests."""

from tests.firmware.e2e import lan_sockets

__all__ = ["lan_sockets"]
