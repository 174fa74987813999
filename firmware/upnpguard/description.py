# Device description and SCPD documents (UDA 1.1 2.3 and 2.5), produced as a list of
# small string chunks that the shell writes one by one (no whole-document string).
import hashlib

from . import FIRMWARE_VERSION, servicetypes
from .xmlutil import escape

_SPEC = "<specVersion><major>1</major><minor>1</minor></specVersion>"


def _el(name, value):
    return "<" + name + ">" + escape(value) + "</" + name + ">"


def _device(device, serial, blank_tokens):
    yield "<device>"
    yield (_el("deviceType", device.device_type))
    yield (_el("friendlyName", device.friendly_name))
    yield ("<manufacturer>UPnP Guard</manufacturer>")
    yield ("<modelName>UPnP Guard Agent</modelName>")
    yield (_el("modelNumber", FIRMWARE_VERSION))
    yield (_el("serialNumber", serial))
    yield (_el("UDN", device.udn))
    yield ("<serviceList>")
    for service in device.services:
        control = service.control_path
        event = service.event_path
        if blank_tokens:
            control = event = ""
        yield (
            "<service>"
            + _el("serviceType", service.type.service_type)
            + _el("serviceId", service.type.service_id)
            + _el("SCPDURL", service.scpd_path)
            + _el("controlURL", control)
            + _el("eventSubURL", event)
            + "</service>"
        )
    yield ("</serviceList>")
    if device.children:
        yield ("<deviceList>")
        for child in device.children:
            yield from _device(child, serial, blank_tokens)
        yield ("</deviceList>")
    yield ("</device>")


def device_description(root, serial, config_id, blank_tokens=False):
    """The description as a generator of small chunks: a response streams it twice
    (length, then body) instead of holding ~5 KB per concurrent client."""
    yield '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0"'
    if config_id is not None:
        yield ' configId="{}"'.format(config_id)
    yield ">" + _SPEC
    yield from _device(root, serial, blank_tokens)
    yield "</root>\n"


def scpd(service_type, config_id=None):
    yield '<?xml version="1.0"?>\n<scpd xmlns="urn:schemas-upnp-org:service-1-0"'
    if config_id is not None:
        yield ' configId="{}"'.format(config_id)
    yield ">" + _SPEC + "<actionList>"
    for action in service_type.actions:
        yield ("<action>" + _el("name", action.name))
        args = action.args_in + action.args_out
        if args:
            yield ("<argumentList>")
            for arg in args:
                yield (
                    "<argument>"
                    + _el("name", arg.name)
                    + _el("direction", arg.direction)
                    + _el("relatedStateVariable", arg.variable)
                    + "</argument>"
                )
            yield ("</argumentList>")
        yield ("</action>")
    yield "</actionList><serviceStateTable>"
    for var in service_type.variables:
        parts = [
            '<stateVariable sendEvents="{}">'.format("yes" if var.evented else "no"),
            _el("name", var.name),
            _el("dataType", var.data_type),
            _el("defaultValue", servicetypes.encode(var, var.default)),
        ]
        if var.allowed:
            parts.append("<allowedValueList>")
            for value in var.allowed:
                parts.append(_el("allowedValue", value))
            parts.append("</allowedValueList>")
        if var.minimum is not None:
            parts.append("<allowedValueRange>" + _el("minimum", var.minimum))
            parts.append(_el("maximum", var.maximum))
            if var.step is not None:
                parts.append(_el("step", var.step))
            parts.append("</allowedValueRange>")
        parts.append("</stateVariable>")
        yield "".join(parts)
    yield "</serviceStateTable></scpd>\n"


def config_id(root, serial):
    """CONFIGID.UPNP.ORG: derived from the description and SCPD content (UDA 1.1 1.2.2).

    The per-boot random URL components are blanked so the value changes only when the
    configuration or the firmware does. Range 0..16777215 as UDA requires.
    """
    digest = hashlib.sha256()
    for chunk in device_description(root, serial, None, blank_tokens=True):
        digest.update(chunk.encode())
    seen = []
    for service in root.all_services():
        if service.type not in seen:
            seen.append(service.type)
            for chunk in scpd(service.type):
                digest.update(chunk.encode())
    raw = digest.digest()
    return (raw[0] << 16 | raw[1] << 8 | raw[2]) & 0xFFFFFF
