# SOAP 1.1 control (UDA 1.1 3.2): strict envelope parsing and response/fault building.
# Malformed XML (including any "<!") is HTTP 400; a well-formed envelope that does not
# fit the SCPD is a UPnP error as a SOAP fault (HTTP 500).
from . import servicetypes
from .servicetypes import UpnpError
from .xmlutil import XmlError, escape, parse

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
_CONTROL_NS = "urn:schemas-upnp-org:control-1-0"


class SoapError(Exception):
    """The request is not a SOAP envelope at all: HTTP 400."""


def parse_soapaction(header):
    """`"urn:...:service:X:1#Action"` -> (service_type, action_name)."""
    if header is None:
        raise SoapError("no SOAPACTION")
    value = header.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]
    service_type, sep, action = value.partition("#")
    if not sep or not action or not service_type:
        raise SoapError("bad SOAPACTION")
    return service_type, action


def parse_request(body, service_type, soapaction):
    """Body bytes -> (action, {in-arg name: decoded value}); raises SoapError/UpnpError."""
    requested_type, action_name = parse_soapaction(soapaction)
    try:
        text = body.decode()
    except UnicodeError:
        raise SoapError("not UTF-8")
    try:
        envelope = parse(text)
    except XmlError as err:
        raise SoapError(str(err))
    if envelope.local != "Envelope" or envelope.ns != SOAP_ENV_NS:
        raise SoapError("not a SOAP envelope")
    bodies = [c for c in envelope.children if c.local == "Body" and c.ns == SOAP_ENV_NS]
    if len(bodies) != 1 or len(bodies[0].children) != 1:
        raise SoapError("no single Body element")
    call = bodies[0].children[0]
    # The action element must name the same service type and action as SOAPACTION.
    if requested_type != service_type.service_type or call.ns != requested_type:
        raise UpnpError(servicetypes.ERR_INVALID_ACTION, "wrong service type")
    if call.local != action_name:
        raise UpnpError(servicetypes.ERR_INVALID_ACTION, "SOAPACTION does not match the body")
    action = service_type.action(action_name)
    if action is None:
        if action_name in service_type.optional:
            raise UpnpError(servicetypes.ERR_OPTIONAL_ACTION_NOT_IMPLEMENTED)
        raise UpnpError(servicetypes.ERR_INVALID_ACTION)
    names = [child.local for child in call.children]
    expected = [arg.name for arg in action.args_in]
    # UDA 1.1 3.2.1: in-arguments in SCPD order, each exactly once.
    if names != expected:
        raise UpnpError(servicetypes.ERR_INVALID_ARGS)
    args = {}
    for child, arg in zip(call.children, action.args_in):
        if child.children:
            raise UpnpError(servicetypes.ERR_INVALID_ARGS, arg.name + " is not a simple value")
        args[arg.name] = servicetypes.decode(service_type.variable(arg.variable), child.text)
    return action, args


def build_response(service_type, action_name, out_args):
    parts = [
        '<?xml version="1.0"?>\n<s:Envelope xmlns:s="',
        SOAP_ENV_NS,
        '" s:encodingStyle="',
        SOAP_ENCODING,
        '"><s:Body><u:',
        action_name,
        'Response xmlns:u="',
        service_type,
        '">',
    ]
    for name, value in out_args:
        parts.append("<" + name + ">" + escape(value) + "</" + name + ">")
    parts.append("</u:" + action_name + "Response></s:Body></s:Envelope>\n")
    return "".join(parts)


def build_fault(code, description=None):
    description = description or servicetypes.UPNP_ERROR_DESCRIPTIONS.get(code, "Error")
    return (
        '<?xml version="1.0"?>\n<s:Envelope xmlns:s="'
        + SOAP_ENV_NS
        + '" s:encodingStyle="'
        + SOAP_ENCODING
        + '"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError'
        + '</faultstring><detail><UPnPError xmlns="'
        + _CONTROL_NS
        + '"><errorCode>{}</errorCode><errorDescription>{}</errorDescription>'.format(
            code, escape(description)
        )
        + "</UPnPError></detail></s:Fault></s:Body></s:Envelope>\n"
    )
