"""Fixtures for appliance tests without a LAN: a scripted UPnP device behind aioclient_mock.

`FakeUpnpDevice` serves a description and SCPDs built from a compact spec, answers SOAP
like a real device (Set* changes the related state variable, Get* reads it; SwitchPower
and Dimming move Status/LoadLevelStatus with their targets), grants GENA subscriptions
and sends NOTIFYs through the integration's real event handler. Everything HA would
fetch goes through HA's aiohttp session, which aioclient_mock replaces.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch
from xml.sax.saxutils import escape

import pytest
from async_upnp_client.const import HttpRequest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_component
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.upnp_guard.const import (
    CONF_DEVICE_TYPE,
    CONF_KIND,
    CONF_LOCATION,
    CONF_TYPED_HOST,
    CONF_UDN,
    DOMAIN,
)
from custom_components.upnp_guard.transport import url_host

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "firmware"))
from upnpguard import auth as firmware_auth

BASE_URL = "http://127.0.0.1:49152"
# A device as SSDP discovers it: on a LAN address (only the description is fetched).
LAN_BASE_URL = "http://192.168.1.20:49152"
SWITCH_POWER = "urn:schemas-upnp-org:service:SwitchPower:1"
DIMMING = "urn:schemas-upnp-org:service:Dimming:1"
TEMPERATURE = "urn:schemas-upnp-org:service:TemperatureSensor:1"
HUMIDITY = "urn:upnp-guard-org:service:HumiditySensor:1"
BINARY_INPUT = "urn:upnp-guard-org:service:BinaryInput:1"
AGENT_INFO = "urn:upnp-guard-org:service:AgentInfo:1"

# variable name -> (UPnP data type, evented, initial value as text)
type Variables = dict[str, tuple[str, bool, str]]
# action name -> [(argument, direction, related variable)]
type Actions = dict[str, list[tuple[str, str, str]]]


@dataclass
class ServiceSpec:
    service_type: str
    service_id: str
    variables: Variables
    actions: Actions


@dataclass
class DeviceSpec:
    device_type: str
    udn: str
    friendly_name: str
    services: list[ServiceSpec]
    embedded: list[DeviceSpec] = field(default_factory=list)
    manufacturer: str = "Test Maker"
    model_name: str = "Test Model"
    model_number: str | None = None
    presentation_url: str | None = None


def switch_power() -> ServiceSpec:
    return ServiceSpec(
        SWITCH_POWER,
        "urn:upnp-org:serviceId:SwitchPower",
        {"Target": ("boolean", False, "0"), "Status": ("boolean", True, "0")},
        {
            "SetTarget": [("newTargetValue", "in", "Target")],
            "GetTarget": [("RetTargetValue", "out", "Target")],
            "GetStatus": [("ResultStatus", "out", "Status")],
        },
    )


def dimming() -> ServiceSpec:
    return ServiceSpec(
        DIMMING,
        "urn:upnp-org:serviceId:Dimming",
        {"LoadLevelTarget": ("ui1", False, "0"), "LoadLevelStatus": ("ui1", True, "0")},
        {
            "SetLoadLevelTarget": [("newLoadlevelTarget", "in", "LoadLevelTarget")],
            "GetLoadLevelTarget": [("retLoadlevelTarget", "out", "LoadLevelTarget")],
            "GetLoadLevelStatus": [("retLoadlevelStatus", "out", "LoadLevelStatus")],
        },
    )


def dimmable_light(udn: str = "uuid:light-0001") -> DeviceSpec:
    return DeviceSpec(
        "urn:schemas-upnp-org:device:DimmableLight:1",
        udn,
        "Hall light",
        [switch_power(), dimming()],
        presentation_url="/index.html",
    )


def agent(udn: str = "uuid:agent-0001") -> DeviceSpec:
    """Our agent as the contract describes it: info service plus one device per kind."""
    info = ServiceSpec(
        AGENT_INFO,
        "urn:upnp-guard-org:serviceId:AgentInfo",
        {
            "FirmwareVersion": ("string", False, ""),
            "BootId": ("ui4", True, "7"),
            "SecurityMode": ("string", False, ""),
            "Uptime": ("ui4", False, "0"),
        },
        {
            "GetInfo": [
                ("FirmwareVersion", "out", "FirmwareVersion"),
                ("BootId", "out", "BootId"),
                ("SecurityMode", "out", "SecurityMode"),
                ("Uptime", "out", "Uptime"),
            ]
        },
    )
    sensor = DeviceSpec(
        "urn:upnp-guard-org:device:Sensor:1",
        f"{udn}-sensor",
        "Climate",
        [
            ServiceSpec(
                TEMPERATURE,
                "urn:upnp-org:serviceId:TemperatureSensor",
                {"CurrentTemperature": ("i4", True, "2150")},
                {"GetCurrentTemperature": [("CurrentTemp", "out", "CurrentTemperature")]},
            ),
            ServiceSpec(
                HUMIDITY,
                "urn:upnp-guard-org:serviceId:HumiditySensor",
                {"CurrentHumidity": ("ui2", True, "4550")},
                {"GetCurrentHumidity": [("CurrentHumidity", "out", "CurrentHumidity")]},
            ),
        ],
    )
    button = DeviceSpec(
        "urn:upnp-guard-org:device:Input:1",
        f"{udn}-button",
        "Doorbell",
        [
            ServiceSpec(
                BINARY_INPUT,
                "urn:upnp-guard-org:serviceId:BinaryInput",
                {"State": ("boolean", True, "0"), "PressCount": ("ui4", True, "3")},
                {"GetState": [("State", "out", "State")]},
            )
        ],
    )
    relay = DeviceSpec(
        "urn:schemas-upnp-org:device:BinaryLight:1", f"{udn}-relay1", "Relay 1", [switch_power()]
    )
    relay2 = DeviceSpec(
        "urn:schemas-upnp-org:device:BinaryLight:1", f"{udn}-relay2", "Relay 2", [switch_power()]
    )
    dimmer = DeviceSpec(
        "urn:schemas-upnp-org:device:DimmableLight:1",
        f"{udn}-dimmer",
        "Lamp",
        [switch_power(), dimming()],
    )
    return DeviceSpec(
        "urn:upnp-guard-org:device:Agent:1",
        udn,
        "Garage agent",
        [info],
        embedded=[relay, relay2, dimmer, sensor, button],
        manufacturer="UPnP Guard",
        model_name="UPnP Guard Agent",
        model_number="0.1.0",
    )


def _device_xml(spec: DeviceSpec, path: str) -> str:
    services = "".join(
        f"<service><serviceType>{s.service_type}</serviceType><serviceId>{s.service_id}"
        f"</serviceId><SCPDURL>/{path}/{index}/scpd.xml</SCPDURL>"
        f"<controlURL>/{path}/{index}/control</controlURL>"
        f"<eventSubURL>/{path}/{index}/event</eventSubURL></service>"
        for index, s in enumerate(spec.services)
    )
    embedded = "".join(
        _device_xml(child, f"{path}-{index}") for index, child in enumerate(spec.embedded)
    )
    optional = ""
    if spec.model_number:
        optional += f"<modelNumber>{spec.model_number}</modelNumber>"
    if spec.presentation_url:
        optional += f"<presentationURL>{spec.presentation_url}</presentationURL>"
    return (
        f"<device><deviceType>{spec.device_type}</deviceType>"
        f"<friendlyName>{escape(spec.friendly_name)}</friendlyName>"
        f"<manufacturer>{spec.manufacturer}</manufacturer><modelName>{spec.model_name}</modelName>"
        f"{optional}<serialNumber>SN-{spec.udn[-4:]}</serialNumber><UDN>{spec.udn}</UDN>"
        f"<serviceList>{services}</serviceList>"
        + (f"<deviceList>{embedded}</deviceList>" if embedded else "")
        + "</device>"
    )


def description_xml(spec: DeviceSpec) -> str:
    return (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>1</minor></specVersion>"
        f"{_device_xml(spec, 'd')}</root>"
    )


def scpd_xml(spec: ServiceSpec) -> str:
    actions = "".join(
        f"<action><name>{name}</name><argumentList>"
        + "".join(
            f"<argument><name>{arg}</name><direction>{direction}</direction>"
            f"<relatedStateVariable>{var}</relatedStateVariable></argument>"
            for arg, direction, var in args
        )
        + "</argumentList></action>"
        for name, args in spec.actions.items()
    )
    variables = ""
    for name, (data_type, evented, _initial) in spec.variables.items():
        extra = ""
        if data_type == "ui1":
            extra = (
                "<allowedValueRange><minimum>0</minimum><maximum>100</maximum>"
                "<step>1</step></allowedValueRange>"
            )
        variables += (
            f'<stateVariable sendEvents="{"yes" if evented else "no"}"><name>{name}</name>'
            f"<dataType>{data_type}</dataType>{extra}</stateVariable>"
        )
    return (
        '<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion>"
        f"<actionList>{actions}</actionList><serviceStateTable>{variables}</serviceStateTable>"
        "</scpd>"
    )


@dataclass
class ServiceState:
    spec: ServiceSpec
    base: str  # /d-0/1
    values: dict[str, str]
    sid: str | None = None


class FakeUpnpDevice:
    """A scripted device: description, SOAP, SUBSCRIBE, NOTIFY (see module docstring)."""

    def __init__(self, mocker: AiohttpClientMocker, spec: DeviceSpec, base_url: str = BASE_URL):
        self.mocker = mocker
        self.spec = spec
        self.base_url = base_url
        self.location = f"{base_url}/description.xml"
        self.services: dict[tuple[str, str], ServiceState] = {}
        self.refuse_subscribe = False
        self.fail_renewal = False
        # Status of every renewal while set (503: "unable to accept renewal" for now).
        self.renewal_status: int | None = None
        self.soap_fault: tuple[int, str] | None = None
        self.offline = False
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.subscribe_count = 0
        self.renewal_count = 0
        # Control requests being answered at once, and the most there ever were.
        self.soap_in_flight = 0
        self.soap_max_in_flight = 0
        self.pending: list[tuple[ServiceState, dict[str, str]]] = []
        # Paired mode (pair()): the firmware's own verifier decides, as on the board.
        self.verifier: Any = None
        self.refused: list[str] = []
        self._index(spec, "d")
        mocker.get(self.location, side_effect=self._description)
        for state in self.services.values():
            mocker.get(f"{base_url}{state.base}/scpd.xml", text=scpd_xml(state.spec))
            mocker.post(f"{base_url}{state.base}/control", side_effect=self._soap)
            mocker.request("SUBSCRIBE", f"{base_url}{state.base}/event", side_effect=self._gena)
            mocker.request("UNSUBSCRIBE", f"{base_url}{state.base}/event", side_effect=self._gena)

    def _index(self, spec: DeviceSpec, path: str) -> None:
        for index, service in enumerate(spec.services):
            self.services[(spec.udn, service.service_type)] = ServiceState(
                service,
                f"/{path}/{index}",
                {name: initial for name, (_t, _e, initial) in service.variables.items()},
            )
        for index, child in enumerate(spec.embedded):
            self._index(child, f"{path}-{index}")

    def pair(self, key_base64: str, boot_id: int = 7) -> None:
        """Paired mode: state-changing SOAP actions and every SUBSCRIBE / renewal /
        UNSUBSCRIBE must carry a valid UG-AUTH; a signed read is checked too (that is how
        the config flow tests a key). AgentInfo's SecurityMode says `paired`."""
        secret = firmware_auth.parse_key(key_base64)
        self.verifier = firmware_auth.Verifier(firmware_auth.Key(secret), boot_id)
        for state in self.services.values():
            if "SecurityMode" in state.values:
                state.values["SecurityMode"] = "paired"
                state.values["BootId"] = str(boot_id)

    def _refusal(self, method: str, url: Any, data: Any) -> AiohttpClientMockResponse | None:
        """A 401 as the paired agent answers it (docs/protocol.md), or None to go on."""
        if self.verifier is None:
            return None
        headers = {str(k).upper(): str(v) for k, v in (self.mocker.mock_calls[-1][3] or {}).items()}
        soap_action = headers.get("SOAPACTION", "")
        read_only = method.upper() == "POST" and "#Get" in soap_action
        if read_only and firmware_auth.HEADER not in headers:
            return None
        body = data if isinstance(data, bytes) else str(data or "").encode()
        reason = self.verifier.check(method.upper(), str(url.path), headers, body)
        if reason is None:
            return None
        self.refused.append(reason)
        extra: dict[str, str] = {}
        if reason == firmware_auth.WRONG_BOOT:
            extra["UG-AUTH-BOOT"] = str(self.verifier.boot_id)
        if reason == firmware_auth.REPLAYED:
            extra["UG-AUTH-LAST"] = str(self.verifier.highest)
        return AiohttpClientMockResponse(method, url, status=401, headers=extra)

    def _by_path(self, url: Any) -> ServiceState:
        base = str(url.path).rsplit("/", 1)[0]
        return next(s for s in self.services.values() if s.base == base)

    async def _description(self, method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        if self.offline:
            raise_connection_error()
        return AiohttpClientMockResponse(method, url, text=description_xml(self.spec))

    async def _soap(self, method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        if self.offline:
            raise_connection_error()
        if (refusal := self._refusal(method, url, data)) is not None:
            return refusal
        self.soap_in_flight += 1
        self.soap_max_in_flight = max(self.soap_max_in_flight, self.soap_in_flight)
        try:
            # A real device takes a moment to answer: let other requests start meanwhile.
            await asyncio.sleep(0)
            return self._answer_soap(method, url, data)
        finally:
            self.soap_in_flight -= 1

    def _answer_soap(self, method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        state = self._by_path(url)
        body = data.decode() if isinstance(data, bytes) else str(data)
        match = re.search(r"<u:(\w+) xmlns:u=", body)
        assert match
        action = match.group(1)
        args = dict(re.findall(r"<(\w+)>([^<]*)</\1>", body))
        self.calls.append((action, args))
        if self.soap_fault is not None:
            code, desc = self.soap_fault
            return AiohttpClientMockResponse(
                method,
                url,
                status=500,
                text=(
                    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/'
                    'soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode>'
                    "<faultstring>UPnPError</faultstring><detail><UPnPError xmlns="
                    '"urn:schemas-upnp-org:control-1-0"><errorCode>'
                    f"{code}</errorCode><errorDescription>{desc}</errorDescription>"
                    "</UPnPError></detail></s:Fault></s:Body></s:Envelope>"
                ),
            )
        out = ""
        for arg, direction, variable in state.spec.actions[action]:
            if direction == "in":
                self.set(state, variable, args[arg], notify=False)
            else:
                out += f"<{arg}>{escape(state.values[variable])}</{arg}>"
        # A real load follows its target: Status/LoadLevelStatus change and are evented.
        if action == "SetTarget":
            self.set(state, "Status", args["newTargetValue"])
        if action == "SetLoadLevelTarget":
            self.set(state, "LoadLevelStatus", args["newLoadlevelTarget"])
        return AiohttpClientMockResponse(
            method,
            url,
            text=(
                '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
                'envelope/"><s:Body>'
                f'<u:{action}Response xmlns:u="{state.spec.service_type}">{out}'
                f"</u:{action}Response></s:Body></s:Envelope>"
            ),
        )

    async def _gena(self, method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        if self.offline:
            raise_connection_error()
        if (refusal := self._refusal(method, url, data)) is not None:
            return refusal
        state = self._by_path(url)
        # The mocker records the request before it asks us for the answer.
        requested_sid = (self.mocker.mock_calls[-1][3] or {}).get("SID")
        if method.upper() == "UNSUBSCRIBE":
            state.sid = None
            return AiohttpClientMockResponse(method, url)
        if self.refuse_subscribe:
            return AiohttpClientMockResponse(method, url, status=501)
        if requested_sid is not None:
            # A renewal (UDA 1.1 section 4.1.2): only of a subscription the device holds.
            if self.fail_renewal or requested_sid != state.sid:
                return AiohttpClientMockResponse(method, url, status=412)
            if self.renewal_status is not None:
                return AiohttpClientMockResponse(method, url, status=self.renewal_status)
            self.renewal_count += 1
        else:
            self.subscribe_count += 1
            state.sid = f"uuid:sid-{self.subscribe_count}"
        return AiohttpClientMockResponse(
            method, url, headers={"SID": state.sid, "TIMEOUT": "Second-1800"}
        )

    def state(self, udn: str, service_type: str) -> ServiceState:
        return self.services[(udn, service_type)]

    def set(self, state: ServiceState, variable: str, value: str, notify: bool = True) -> None:
        state.values[variable] = value
        if notify:
            self.pending.append((state, {variable: value}))

    async def deliver(self, hass: HomeAssistant) -> None:
        """Send the NOTIFYs queued by state changes to the integration's event handler."""
        entry = hass.config_entries.async_entries(DOMAIN)[0]
        handler = entry.runtime_data.event_handler
        while self.pending:
            state, changes = self.pending.pop(0)
            if state.sid is None:
                continue
            await handler.handle_notify(notify_request(handler.callback_url, state.sid, changes))
        await hass.async_block_till_done()

    async def change(self, hass: HomeAssistant, udn: str, service_type: str, **values: Any) -> None:
        """The device changes by itself (a button press, a new reading) and sends events."""
        state = self.state(udn, service_type)
        for name, value in values.items():
            self.set(state, name, str(int(value)) if isinstance(value, bool) else str(value))
        await self.deliver(hass)

    async def initial_events(self, hass: HomeAssistant) -> None:
        """The initial event of every subscription: all evented variables (UDA 4.2)."""
        entry = hass.config_entries.async_entries(DOMAIN)[0]
        handler = entry.runtime_data.event_handler
        for state in self.services.values():
            if state.sid is None:
                continue
            evented = {
                name: state.values[name]
                for name, (_t, evented, _i) in state.spec.variables.items()
                if evented
            }
            await handler.handle_notify(notify_request(handler.callback_url, state.sid, evented))
        await hass.async_block_till_done()


def raise_connection_error() -> None:
    from aiohttp import ClientConnectionError  # noqa: PLC0415

    raise ClientConnectionError("device is offline")


def notify_request(callback_url: str, sid: str, changes: dict[str, str]) -> HttpRequest:
    properties = "".join(
        f"<e:property><{name}>{escape(value)}</{name}></e:property>"
        for name, value in changes.items()
    )
    body = (
        '<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
        f"{properties}</e:propertyset>"
    )
    headers = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": "0"}
    return HttpRequest("NOTIFY", callback_url, headers, body)


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


@pytest.fixture
def ssdp_hub(hass: HomeAssistant) -> Generator[SsdpHub]:
    """HA's ssdp and network integrations count as set up; SSDP goes through the hub."""
    mock_component(hass, "ssdp")
    mock_component(hass, "network")
    hub = SsdpHub()
    with (
        patch("homeassistant.components.ssdp.async_register_callback", side_effect=hub.register),
        patch(
            "homeassistant.components.ssdp.async_get_discovery_info_by_st", side_effect=hub.by_st
        ),
    ):
        yield hub


@pytest.fixture
def light_device(aioclient_mock: AiohttpClientMocker) -> FakeUpnpDevice:
    return FakeUpnpDevice(aioclient_mock, dimmable_light())


@pytest.fixture
def agent_device(aioclient_mock: AiohttpClientMocker) -> FakeUpnpDevice:
    device = FakeUpnpDevice(aioclient_mock, agent())
    info = device.state(device.spec.udn, AGENT_INFO)
    info.values.update(FirmwareVersion="0.1.0", SecurityMode="open", Uptime="3600")
    return device


def entry_for(device: FakeUpnpDevice) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=device.spec.udn,
        title=device.spec.friendly_name,
        data={
            CONF_KIND: "appliance",
            CONF_LOCATION: device.location,
            CONF_UDN: device.spec.udn,
            CONF_DEVICE_TYPE: device.spec.device_type,
            # These devices live on loopback (aioclient_mock), which is no LAN address:
            # the entries are made as if the user had typed the URL (transport.py).
            CONF_TYPED_HOST: url_host(device.location),
        },
    )


async def setup_device(hass: HomeAssistant, device: FakeUpnpDevice) -> MockConfigEntry:
    entry = entry_for(device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await device.initial_events(hass)
    return entry


@pytest.fixture
async def init_light(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    light_device: FakeUpnpDevice,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> AsyncGenerator[MockConfigEntry]:
    entry = await setup_device(hass, light_device)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def init_agent(
    hass: HomeAssistant,
    ssdp_hub: SsdpHub,
    agent_device: FakeUpnpDevice,
    socket_enabled: None,
    enable_custom_integrations: None,
) -> AsyncGenerator[MockConfigEntry]:
    entry = await setup_device(hass, agent_device)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Snapshot every entity, also those disabled by default (as core's fixture does)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=lambda: property(lambda _self: True),
    ):
        yield
