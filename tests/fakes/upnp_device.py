"""A scripted UPnP device behind aioclient_mock, for tests without a LAN.

`FakeUpnpDevice` serves a description and SCPDs built from a compact spec (`DeviceSpec`,
`ServiceSpec`), answers SOAP like a real device (Set* changes the related state
variable, Get* reads it; `perform` is the hook a richer device overrides), grants GENA
subscriptions and sends NOTIFYs. Everything Home Assistant would fetch goes through its
aiohttp session, which aioclient_mock replaces. The appliances are in appliances.py, an
Internet Gateway Device in igd.py.
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from async_upnp_client.const import HttpRequest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.upnp_guard.const import DOMAIN

from .paired import PairedCheck

BASE_URL = "http://127.0.0.1:49152"
# A device as SSDP discovers it: on a LAN address (only the description is fetched).
LAN_BASE_URL = "http://192.168.1.20:49152"

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
    callback: str | None = None  # where the subscriber asked for NOTIFYs


class FakeUpnpDevice:
    """A scripted device: description, SOAP, SUBSCRIBE, NOTIFY (see module docstring)."""

    def __init__(self, mocker: AiohttpClientMocker, spec: DeviceSpec, base_url: str = BASE_URL):
        self.mocker = mocker
        self.spec = spec
        self.base_url = base_url
        self.location = f"{base_url}/description.xml"
        self.services: dict[tuple[str, str], ServiceState] = {}
        self.refuse_subscribe = False
        # SUBSCRIBE answered with a body over the transport's cap (a hostile device).
        self.oversize_subscribe = False
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
        self.paired: PairedCheck | None = None  # pair(): UG-AUTH required
        # A man in the middle flips a digit of SetKey's sealed key on its way in.
        self.tamper_seal = False
        # SetKey is carried out but its answer is lost on the way back.
        self.lose_set_key_answer = False
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
        """Paired mode (tests/fakes/paired.py); AgentInfo's SecurityMode says `paired`."""
        refused = self.refused  # kept across a re-pairing (a reboot, a new key)
        self.paired = PairedCheck(key_base64, boot_id)
        self.paired.refused = refused
        for state in self.services.values():
            if "SecurityMode" in state.values:
                state.values["SecurityMode"] = "paired"
                state.values["BootId"] = str(boot_id)

    @property
    def verifier(self) -> Any:
        return None if self.paired is None else self.paired.verifier

    @property
    def refused(self) -> list[str]:
        return [] if self.paired is None else self.paired.refused

    def _refusal(self, method: str, url: Any, data: Any) -> AiohttpClientMockResponse | None:
        if self.paired is None:
            return None
        return self.paired.refusal(method, url, data, self.mocker.mock_calls[-1][3])

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
        if self.tamper_seal:
            text = data.decode() if isinstance(data, bytes) else str(data)
            data = re.sub(
                r"<NewSealedKey>(.)", lambda m: f"<NewSealedKey>{'1' if m[1] == '0' else '0'}", text
            ).encode()
        if (refusal := self._refusal(method, url, data)) is not None:
            return refusal
        # The mocker records the request before it asks us for the answer.
        headers = self.mocker.mock_calls[-1][3]
        self.soap_in_flight += 1
        self.soap_max_in_flight = max(self.soap_max_in_flight, self.soap_in_flight)
        try:
            # A real device takes a moment to answer: let other requests start meanwhile.
            await asyncio.sleep(0)
            answer = self._answer_soap(method, url, data, headers)
            soap_action = {str(k).upper(): str(v) for k, v in (headers or {}).items()}.get(
                "SOAPACTION", ""
            )
            if self.lose_set_key_answer and "#SetKey" in soap_action:
                raise_connection_error()  # done, but the answer never arrives
            return answer
        finally:
            self.soap_in_flight -= 1

    def _answer_soap(
        self, method: str, url: Any, data: Any, headers: dict[str, Any] | None = None
    ) -> AiohttpClientMockResponse:
        state = self._by_path(url)
        body = data.decode() if isinstance(data, bytes) else str(data)
        match = re.search(r"<u:(\w+) xmlns:u=", body)
        assert match
        action = match.group(1)
        args = {
            name: html.unescape(value) for name, value in re.findall(r"<(\w+)>([^<]*)</\1>", body)
        }
        self.calls.append((action, args))
        if self.soap_fault is not None:
            return soap_fault_response(method, url, *self.soap_fault)
        try:
            if action == "SetKey" and self.paired is not None:
                self.paired.rotate(args["NewSealedKey"], headers)
            out_args = self.perform(state, action, args)
        except SoapFault as fault:
            return soap_fault_response(method, url, fault.code, fault.description)
        out = "".join(f"<{arg}>{escape(value)}</{arg}>" for arg, value in out_args.items())
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

    def perform(self, state: ServiceState, action: str, args: dict[str, str]) -> dict[str, str]:
        """Carry out one action; its out arguments (raise SoapFault to refuse it)."""
        out: dict[str, str] = {}
        for arg, direction, variable in state.spec.actions[action]:
            if direction == "in":
                self.set(state, variable, args[arg], notify=False)
            else:
                out[arg] = state.values[variable]
        # A real load follows its target: Status/LoadLevelStatus change and are evented.
        if action == "SetTarget":
            self.set(state, "Status", args["newTargetValue"])
        if action == "SetLoadLevelTarget":
            self.set(state, "LoadLevelStatus", args["newLoadlevelTarget"])
        return out

    def _odd_subscribe_answer(self, method: str, url: Any) -> AiohttpClientMockResponse | None:
        """A refused SUBSCRIBE, or one answered with too much (refuse_subscribe,
        oversize_subscribe)."""
        if self.refuse_subscribe:
            return AiohttpClientMockResponse(method, url, status=501)
        if self.oversize_subscribe:
            return AiohttpClientMockResponse(method, url, headers={"Content-Length": "99999999"})
        return None

    async def _gena(self, method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        if self.offline:
            raise_connection_error()
        if (refusal := self._refusal(method, url, data)) is not None:
            return refusal
        state = self._by_path(url)
        # The mocker records the request before it asks us for the answer.
        headers = self.mocker.mock_calls[-1][3] or {}
        requested_sid = headers.get("SID")
        if method.upper() == "UNSUBSCRIBE":
            state.sid = None
            return AiohttpClientMockResponse(method, url)
        if (odd := self._odd_subscribe_answer(method, url)) is not None:
            return odd
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
            state.callback = str(headers.get("CALLBACK", "")).strip("<>")
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


class SoapFault(Exception):
    """What `perform` raises to answer with a UPnP error (HTTP 500, UPnPError)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(code, description)
        self.code = code
        self.description = description


def soap_fault_response(
    method: str, url: Any, code: int, description: str
) -> AiohttpClientMockResponse:
    return AiohttpClientMockResponse(
        method,
        url,
        status=500,
        text=(
            '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/'
            'soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode>'
            "<faultstring>UPnPError</faultstring><detail><UPnPError xmlns="
            '"urn:schemas-upnp-org:control-1-0"><errorCode>'
            f"{code}</errorCode><errorDescription>{escape(description)}</errorDescription>"
            "</UPnPError></detail></s:Fault></s:Body></s:Envelope>"
        ),
    )


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
