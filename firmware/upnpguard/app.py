# The agent's request pipeline, sans-IO: Request in, Response out. Order of checks:
# Host (DNS rebinding) -> route (404) -> method (405), then for GENA: authorize -> GENA
# rules; for control: SOAP envelope parsed and checked against the SCPD -> authorize ->
# action. The SOAP body (<= HTTP_BODY_MAX, bounded XML) is parsed before authorize, so
# DESIGN's "authenticate before parsing a body" is not met yet for control requests.
from . import description, gena, model, soap, ssdp
from .http import HttpError, Response
from .model import UpnpError

DESCRIPTION_PATH = "/desc.xml"
_XML = ("CONTENT-TYPE", 'text/xml; charset="utf-8"')


def open_mode_authorize(request, service, kind):
    """`open` security mode: anyone on the subnet may act (within the limits).

    The paired mode of the authentication issue replaces this: return None to allow,
    or a refusal (UPnP 606 for control, 412 for subscriptions).
    """
    return None


class Agent:
    def __init__(
        self,
        root,
        serial,
        ip,
        port,
        prefix_len,
        boot_id,
        clock,
        rand_bytes,
        random_ms,
        server,
        authorize=open_mode_authorize,
        allow_other_callback_hosts=False,
    ):
        self.root = root
        self.serial = serial
        self.ip = ip
        self.port = port
        self.server = server
        self.host = "{}:{}".format(ip, port)
        self.authorize = authorize
        self.subnet = gena.Subnet(ip, prefix_len)
        self.config_id = description.config_id(root, serial)
        self.gena = gena.SubscriptionManager(
            self.subnet, clock, rand_bytes, allow_other_callback_hosts
        )
        self.routes = {}
        scpds = {}
        for service in root.all_services():
            self.gena.attach(service)
            self.routes[service.control_path] = ("control", service)
            self.routes[service.event_path] = ("event", service)
            scpds[service.scpd_path] = service.type
        for path, service_type in scpds.items():
            self.routes[path] = ("scpd", service_type)
        self.routes[DESCRIPTION_PATH] = ("description", None)
        self.location = "http://{}{}".format(self.host, DESCRIPTION_PATH)
        self.announcer = ssdp.Announcer(root, self.location, server, boot_id, self.config_id)
        self.responder = ssdp.Responder(self.announcer, self.subnet, clock, random_ms)
        self.refused = {}  # status -> count, for the log and tests
        self._lengths = {}  # document path -> Content-Length

    def _document(self, path, chunks):
        """A description or SCPD: generated per request (a few KB we do not keep), its
        length counted once per boot (the documents do not change while we run)."""
        response = Response(200, [_XML], chunks, length=self._lengths.get(path))
        self._lengths[path] = response.content_length()
        return response

    def _description(self):
        return description.device_description(self.root, self.serial, self.config_id)

    def count(self, status):
        self.refused[status] = self.refused.get(status, 0) + 1

    def handle(self, request, peer_ip):
        try:
            response = self._handle(request, peer_ip)
        except HttpError as err:  # a header the rules need appears twice, and the like
            response = Response(err.status)
        if response.status >= 400 and response.status != 500:
            self.count(response.status)
        return response

    def _handle(self, request, peer_ip):
        host = request.header("host")
        # DNS rebinding: a browser tricked into talking to us sends the attacker's name.
        if host is None or host.lower() != self.host:
            return Response(400)
        route = self.routes.get(request.target)
        if route is None:
            return Response(404)
        kind, target = route
        method = request.method
        if kind in ("description", "scpd"):
            if method not in ("GET", "HEAD"):
                return Response(405, [("ALLOW", "GET, HEAD")])
            if kind == "description":
                document = self._document(request.target, self._description)
            else:
                document = self._document(
                    request.target, lambda: description.scpd(target, self.config_id)
                )
            if method == "HEAD":  # the GET's headers, Content-Length included, no body
                return Response(200, [_XML], length=document.length)
            return document
        if kind == "control":
            if method != "POST":
                return Response(405, [("ALLOW", "POST")])
            return self._control(request, target)
        if method == "SUBSCRIBE":
            refusal = self.authorize(request, target, "subscribe")
            if refusal is not None:
                return Response(refusal)
            result = self.gena.subscribe(request, target, peer_ip)
            response = Response(result.status, result.headers)
            sub = result.subscription
            if sub is not None:
                response.after = self._subscribed(sub)
            return response
        if method == "UNSUBSCRIBE":
            refusal = self.authorize(request, target, "unsubscribe")
            if refusal is not None:
                return Response(refusal)
            return Response(self.gena.unsubscribe(request, target, peer_ip).status)
        return Response(405, [("ALLOW", "SUBSCRIBE, UNSUBSCRIBE")])

    def _subscribed(self, sub):
        """The shell calls this once the SUBSCRIBE response is written (True) or could
        not be (False)."""

        def after(written=True):
            if written:
                # The initial event follows the SUBSCRIBE response (UDA 1.1 4.2.1).
                sub.ready = True
            else:
                # The subscriber never got its SID: nobody would renew or cancel it.
                self.gena.release(sub)

        return after

    def _control(self, request, service):
        service_type = service.type
        try:
            action, args = soap.parse_request(
                request.body, service_type, request.header("soapaction")
            )
            refusal = self.authorize(request, service, "control")
            if refusal is not None:
                raise UpnpError(refusal)
            try:
                out = service.invoke(action.name, args)
            except MemoryError:
                raise UpnpError(model.ERR_OUT_OF_MEMORY)
            except UpnpError:
                raise
            except Exception:  # a HAL failure must not kill the agent
                raise UpnpError(model.ERR_ACTION_FAILED)
        except soap.SoapError:
            return Response(400)
        except UpnpError as err:
            self.count("upnp-{}".format(err.code))
            return Response(500, [_XML, ("EXT", "")], soap.build_fault(err.code))
        body = soap.build_response(service_type.service_type, action.name, out)
        return Response(200, [_XML, ("EXT", "")], body)
