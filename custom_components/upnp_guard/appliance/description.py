"""Loading an appliance's description, keeping every embedded device, and what it says.

async-upnp-client keys `UpnpDevice.embedded_devices` by deviceType, so a root device
with two embedded BinaryLight:1 devices (an agent with two relays) keeps only the last
one. UDA 1.1 identifies devices by UDN, not by type: this factory builds the embedded
devices itself and keys them by UDN. Everything else is the library's parsing.

The library has no public hook for this: UdnKeyedFactory overrides the private
`UpnpFactory._async_create_device(device_el, description_url)`, which the public
`async_create_device` calls once for the root device and the library's version calls for
each embedded one. That override is the only use of the library's internals here, kept
to one method; tests/appliance/test_description.py fails if a release renames it,
changes its signature or stops building devices through it.
"""

from __future__ import annotations

from typing import override
from xml.etree import ElementTree as ET

from async_upnp_client.client import UpnpDevice, UpnpService
from async_upnp_client.client_factory import UpnpFactory
from async_upnp_client.const import NS
from homeassistant.core import HomeAssistant

from ..paired import paired_requester
from .const import (
    AGENT_INFO,
    BINARY_INPUT,
    DIMMING,
    HUMIDITY_SENSOR,
    SUPPORTED_SERVICE_TYPES,
    SWITCH_POWER,
    TEMPERATURE_SENSOR,
)

SUBSCRIBE_PRIORITY: tuple[str, ...] = (
    BINARY_INPUT,
    SWITCH_POWER,
    DIMMING,
    TEMPERATURE_SENSOR,
    HUMIDITY_SENSOR,
)


class UdnKeyedFactory(UpnpFactory):
    """UpnpFactory whose devices keep all embedded devices, keyed by UDN."""

    @override
    async def _async_create_device(self, device_el: ET.Element, description_url: str) -> UpnpDevice:
        device_list = device_el.find("./device:deviceList", NS)
        children = []
        if device_list is not None:
            for child_el in device_list.findall("./device:device", NS):
                children.append(await self._async_create_device(child_el, description_url))
            # The library would build (and de-duplicate by type) the children again.
            device_el.remove(device_list)
        try:
            device = await super()._async_create_device(device_el, description_url)
        finally:
            if device_list is not None:
                device_el.append(device_list)
        for child in children:
            child.parent_device = device
        device.embedded_devices = {child.udn: child for child in children}
        return device


async def async_load_appliance(hass: HomeAssistant, location: str) -> UpnpDevice:
    """Fetch and parse a description (raises UpnpError and aiohttp errors).

    The device's requests go out signed when it is a loaded paired agent (paired.py).
    """
    return await UdnKeyedFactory(
        paired_requester(hass, location), non_strict=True
    ).async_create_device(location)


def is_supported(device: UpnpDevice) -> bool:
    """Whether any device in the tree offers a service appliance entries understand."""
    return any(service.service_type in SUPPORTED_SERVICE_TYPES for service in device.all_services)


def evented_services(device: UpnpDevice) -> list[UpnpService]:
    """Services to subscribe to, most valuable first.

    Devices cap their subscriptions (our agent: 4 per service, 32 in all, for its memory)
    and answer 503 beyond; the services left over are polled. Momentary inputs come
    first because a poll can count presses but never see them as they happen.
    AgentInfo is not subscribed: its evented BootId repeats SSDP's BOOTID.UPNP.ORG, and
    GetInfo is read again on every reconnect.
    """
    services = [
        service
        for service in device.all_services
        if service.service_type != AGENT_INFO
        and any(variable.send_events for variable in service.state_variables.values())
    ]

    def priority(service: UpnpService) -> int:
        if service.service_type in SUBSCRIBE_PRIORITY:
            return SUBSCRIBE_PRIORITY.index(service.service_type)
        return len(SUBSCRIBE_PRIORITY)

    return sorted(services, key=priority)  # stable: description order within a type


def service_urls(device: UpnpDevice) -> set[tuple[str, str, str]]:
    """Where the device's services are reached: changes mean a new description."""
    return {
        (service.service_type, service.control_url, service.event_sub_url)
        for service in device.all_services
    }
