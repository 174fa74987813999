"""The one place we extend async-upnp-client below its public API (appliance/description.py):
UdnKeyedFactory overrides UpnpFactory._async_create_device so that embedded devices of one
type are all kept. These tests fail if a release of the library moves that boundary."""

from __future__ import annotations

import inspect
from typing import Any
from unittest.mock import patch

from async_upnp_client.client_factory import UpnpFactory
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.appliance.description import (
    UdnKeyedFactory,
    async_load_appliance,
)

from .conftest import LAN_BASE_URL, FakeUpnpDevice


def test_the_overridden_method_keeps_its_signature() -> None:
    """The private method still exists, is a coroutine and takes what we pass it."""
    method = UpnpFactory.__dict__.get("_async_create_device")
    assert method is not None, "UpnpFactory._async_create_device is gone"
    assert inspect.iscoroutinefunction(method)
    assert list(inspect.signature(method).parameters) == ["self", "device_el", "description_url"]
    assert "_async_create_device" in UdnKeyedFactory.__dict__


async def test_the_override_builds_every_device_of_the_tree(
    hass: HomeAssistant, agent_device: FakeUpnpDevice
) -> None:
    """The library's public async_create_device still goes through the method we override,
    once per device in the tree, and two embedded devices of one type both survive."""
    built: list[str] = []
    override = UdnKeyedFactory._async_create_device

    async def spy(self: UdnKeyedFactory, device_el: Any, description_url: str) -> Any:
        device = await override(self, device_el, description_url)
        built.append(device.udn)
        return device

    lan = FakeUpnpDevice(agent_device.mocker, agent_device.spec, base_url=LAN_BASE_URL)
    with patch.object(UdnKeyedFactory, "_async_create_device", spy):
        device = await async_load_appliance(hass, lan.location)

    spec = agent_device.spec
    expected = [child.udn for child in spec.embedded] + [spec.udn]
    assert sorted(built) == sorted(expected)
    relays = [child.udn for child in spec.embedded if child.device_type.endswith("BinaryLight:1")]
    assert len(relays) == 2  # the case the library alone gets wrong (keyed by type)
    assert list(device.embedded_devices) == [child.udn for child in spec.embedded]
    for child in device.embedded_devices.values():
        assert child.parent_device is device
        assert child.services  # the library's parsing ran for the child too
    assert device.services
