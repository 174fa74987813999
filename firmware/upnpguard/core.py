# The agent's sans-IO core, in h11's shape: parsed requests and datagrams in, responses
# and datagrams out; no sockets, no timers, nothing platform-specific. The shell
# (shell.py) drives it through these verbs and reaches no further:
#
#   handle_request(request, peer_ip) -> Response    one parsed HTTP request (http.py)
#   refuse(status, headers) -> Response              a request refused before it parsed
#   handle_datagram(data, ip, port)                  one datagram read from the SSDP socket
#   outgoing() -> (ip, port, datagram), ...          M-SEARCH replies due now
#   next_deadline_ms() -> ms or None                 until the next reply falls due
#   announcements(kind) -> datagram, ...             ssdp:alive or ssdp:byebye, every target
#   notifications() -> (sub, ip, port, data), ...    NOTIFYs to send now (expiry first)
#   notify_wanted(sub) -> bool                       a delivery starts: still subscribed?
#   notify_done(sub, ok)                             a delivery ended (once per NOTIFY)
#   stats() -> dict                                  counters, for the log and the tests
#
# It calls the shell back through the two callbacks given to listen(): on_event() when an
# event waits to be sent, on_notify_cancelled(sub) when a subscription whose NOTIFY is in
# flight goes away (the shell cancels that delivery; it still reports notify_done).
#
# Request pipeline, in this order: Host (DNS rebinding) -> route (404) -> method (405).
# Then, in paired mode, the gate (guard.py): every SUBSCRIBE / renewal / UNSUBSCRIBE, every
# SOAP action not marked read-only in servicetypes (named by SOAPACTION; the body must
# name the same one) and every request that carries UG-AUTH is verified on its raw bytes
# *before* the body is parsed: 401 (429 once a peer spent its failure budget), nothing
# changes. Then authorize() (a hook for tests), the GENA rules or the SOAP parse, the
# action. Descriptions, SCPDs and read-only queries without UG-AUTH stay open.
#
# Over-the-air updates (ota.py) are wired in here too: AgentInfo's update actions, the
# confirmation of a new version by the first authenticated request, the reset once
# CommitUpdate's answer is out.
#
# Why this file is over ~350 lines: it does one job, the sans-IO protocol core (the verbs
# above and the one request pipeline behind them); the protocol pieces it sequences are
# their own modules already (http, gena, guard, soap, ssdp, responder, ota). What is left
# is the pipeline and the state it owns, which is one unit: split, every request would
# cross another module boundary, and every module the agent imports costs a module object,
# its globals dict and its frozen bytecode's qstrs on boards with 64 KB of heap. The
# firmware does not add modules for line counts (DESIGN: the agent runs in a 64 KB heap).
from . import FIRMWARE_VERSION, description, devices, gena, guard, log, servicetypes, soap, ssdp
from .compat import hexlify, ticks_diff
from .http import HttpError, Response
from .ipv4 import Subnet
from .responder import Responder
from .servicetypes import UpnpError

DEFAULT_HTTP_PORT = 49152
DESCRIPTION_PATH = "/desc.xml"
_XML = ("CONTENT-TYPE", 'text/xml; charset="utf-8"')


def open_mode_authorize(request, service, kind):
    """`open` security mode: anyone on the subnet may act (within the limits).

    The paired mode of the authentication issue replaces this: return None to allow,
    or a refusal (UPnP 606 for control, 412 for subscriptions).
    """
    return None


def security_mode(config):
    """`paired` unless the config asks for `open` explicitly."""
    return config.get("security_mode", "paired")


def _needs_auth(request, service_type):
    """Paired mode: everything but a read-only action (as SOAPACTION names it) without an
    authenticator. A request that carries one is verified even for a query, so Home
    Assistant can test a key with an authenticated read."""
    if request.header("ug-auth") is not None:
        return True
    try:
        requested, name = soap.parse_soapaction(request.header("soapaction"))
    except soap.SoapError:
        return True
    if requested != service_type.service_type:
        return True
    action = service_type.action(name)
    return action is None or not action.read_only


class AgentCore:
    """One board's UPnP agent: its devices, built from the board's JSON `config` with
    pins bound through `hal`, served on `ip` (on a /`prefix_len` subnet). `clock()` gives
    milliseconds (ticks), `rand_bytes(n)` n random bytes (SIDs, URL tokens) and
    `random_ms(limit)` a delay of 0..limit-1 ms (M-SEARCH MX)."""

    def __init__(
        self,
        config,
        hal,
        *,
        board_id,
        ip,
        prefix_len,
        boot_id,
        platform,
        clock,
        rand_bytes,
        random_ms,
        authorize=open_mode_authorize,
        key=None,
        store_key=None,
        updater=None,
        reboot=None,
    ):
        """`key`: the board's 32-byte pairing key (paired mode, the default);
        `store_key(base64 text)` stores a rotated one atomically (raises OSError).
        `updater`: an ota.Updater (None: the update actions answer 602); `reboot()` is
        called once CommitUpdate's answer is written."""
        mode = security_mode(config)
        self.gate = None
        if mode == "paired":
            if key is None:
                raise devices.ConfigError("paired mode needs the pairing key")
            self.gate = guard.Gate(key, boot_id, clock, store_key)
        elif mode != "open":
            raise devices.ConfigError("security_mode must be paired or open")
        started = clock()
        self.root = devices.build_devices(
            config,
            board_id,
            hal,
            lambda index: hexlify(rand_bytes(5)),
            boot_id,
            lambda: ticks_diff(clock(), started) // 1000,
            mode,
        )
        self.udn = self.root.udn
        self.updater = updater
        self._reboot = reboot
        for service in self.root.services:
            if service.type is servicetypes.AGENT_INFO:
                self.info = service
                actions = service.actions
                actions["SetKey"] = self._set_key
                actions["GetInfo"] = self._info_reader(service)
                actions["BeginUpdate"] = self._begin_update
                actions["WriteUpdate"] = self._write_update
                actions["CommitUpdate"] = self._commit_update
                if updater is not None:
                    service.values["UpdateResult"] = updater.result
        self.serial = hexlify(board_id[:6])
        self.ip = ip
        self.port = int(config.get("http_port", DEFAULT_HTTP_PORT))
        self.host = "{}:{}".format(ip, self.port)
        self.boot_id = boot_id
        self.server = "{}/1.0 UPnP/1.1 UPnPGuard/{}".format(platform, FIRMWARE_VERSION)
        self.authorize = authorize
        self.subnet = Subnet(ip, prefix_len)
        self.config_id = description.config_id(self.root, self.serial)
        self.gena = gena.SubscriptionManager(
            self.subnet, clock, rand_bytes, bool(config.get("allow_other_callback_hosts", False))
        )
        self.routes = {}
        scpds = {}
        for service in self.root.all_services():
            self.gena.attach(service)
            self.routes[service.control_path] = ("control", service)
            self.routes[service.event_path] = ("event", service)
            scpds[service.scpd_path] = service.type
        for path, service_type in scpds.items():
            self.routes[path] = ("scpd", service_type)
        self.routes[DESCRIPTION_PATH] = ("description", None)
        self.location = "http://{}{}".format(self.host, DESCRIPTION_PATH)
        self.announcer = ssdp.Announcer(
            self.root, self.location, self.server, boot_id, self.config_id
        )
        self.responder = Responder(self.announcer, self.subnet, clock, random_ms)
        self.refused = {}  # status (or "upnp-<code>") -> count
        self._lengths = {}  # document path -> Content-Length

    # -- the verbs ----------------------------------------------------------------------
    def listen(self, on_event, on_notify_cancelled):
        self.gena.on_pending = on_event
        self.gena.on_removed = on_notify_cancelled

    def handle_request(self, request, peer_ip):
        if self.gate is not None:
            self.gate.current = None  # SetKey may use only its own request's freshness
        try:
            response = self._handle(request, peer_ip)
        except HttpError as err:  # a header the rules need appears twice, and the like
            response = Response(err.status)
        if response.status >= 400 and response.status != 500:
            self._count(response.status)
        return response

    def refuse(self, status, headers=None):
        """The answer to a request refused before it reached handle_request (a parser
        limit, no connection left), counted like the pipeline's refusals."""
        self._count(status)
        return Response(status, headers)

    def handle_datagram(self, data, ip, port):
        self.responder.datagram(data, ip, port)

    def outgoing(self):
        """M-SEARCH replies due now: a generator of (ip, port, datagram), one at a time."""
        return self.responder.due()

    def next_deadline_ms(self):
        return self.responder.next_due_ms()

    def announcements(self, kind):
        """The NOTIFY datagrams of `kind` ("alive" or "byebye") for every target."""
        return self.announcer.alive() if kind == "alive" else self.announcer.byebye()

    def notifications(self):
        """Expire what is due, then yield each NOTIFY to send now as (sub, ip, port, data).
        Each is in flight from then on: report notify_done(sub, ok) exactly once for it,
        also when it could not even be started."""
        manager = self.gena
        manager.expire()
        sign = self.gate.event_headers if self.gate is not None else None
        for sub in manager.ready():
            ip, port, data = manager.take(sub, sign)
            yield sub, ip, port, data

    def notify_wanted(self, sub):
        """False once `sub` was removed (UNSUBSCRIBE, expiry): do not send its NOTIFY."""
        return sub in self.gena.subscriptions

    def notify_done(self, sub, ok):
        manager = self.gena
        before = len(manager.subscriptions)
        manager.delivered(sub, ok)
        if len(manager.subscriptions) < before:
            log.warning("subscription dropped after failed NOTIFYs", log.short_sid(sub.sid))

    def stats(self):
        manager = self.gena
        responder = self.responder
        out = {
            "subscriptions": len(manager.subscriptions),
            "subscriptions_dropped": manager.dropped,
            "subscriptions_released": manager.released,
            "notify_in_flight": manager.in_flight,
            "notify_in_flight_peak": manager.in_flight_peak,
            "refused": dict((str(k), v) for k, v in self.refused.items()),
            "ssdp_bytes_in": responder.bytes_in,
            "ssdp_bytes_out": responder.bytes_out,
            "ssdp_dropped_foreign": responder.dropped_foreign,
            "ssdp_dropped_invalid": responder.dropped_invalid,
            "ssdp_dropped_busy": responder.dropped_busy,
            "ssdp_dropped_budget": responder.dropped_budget,
            "ssdp_sources": len(responder.sources),
        }
        if self.gate is not None:
            out.update(self.gate.stats())
        return out

    # -- HTTP ---------------------------------------------------------------------------
    def _document(self, path, chunks):
        """A description or SCPD: generated per request (a few KB we do not keep), its
        length counted once per boot (the documents do not change while we run)."""
        response = Response(200, [_XML], chunks, length=self._lengths.get(path))
        self._lengths[path] = response.content_length()
        return response

    def _description(self):
        return description.device_description(self.root, self.serial, self.config_id)

    def _count(self, status):
        self.refused[status] = self.refused.get(status, 0) + 1

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
            if self.gate is not None and _needs_auth(request, target.type):
                refused = self.gate.check(request, peer_ip)
                if refused is not None:
                    return refused
                self._healthy()
            response = self._control(request, target)
            if self.gate is None and response.status == 200:
                self._healthy()  # open mode: any answered action
            return response
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return Response(405, [("ALLOW", "SUBSCRIBE, UNSUBSCRIBE")])
        if self.gate is not None:
            refused = self.gate.check(request, peer_ip)
            if refused is not None:
                return refused
            self._healthy()
        if method == "SUBSCRIBE":
            refusal = self.authorize(request, target, "subscribe")
            if refusal is not None:
                return Response(refusal)
            status, headers, sub = self.gena.subscribe(request, target, peer_ip)
            response = Response(status, headers)
            if sub is not None:
                response.after = self._subscribed(sub)
            return response
        else:
            refusal = self.authorize(request, target, "unsubscribe")
            if refusal is not None:
                return Response(refusal)
        return Response(self.gena.unsubscribe(request, target, peer_ip)[0])

    def _subscribed(self, sub):
        """The shell calls this once the SUBSCRIBE response is written (True) or could
        not be (False)."""

        def after(written=True):
            if written:
                # The initial event follows the SUBSCRIBE response (UDA 1.1 4.2.1).
                sub.ready = True
                if self.gena.on_pending is not None:
                    self.gena.on_pending()
            else:
                # The subscriber never got its SID: nobody would renew or cancel it.
                self.gena.release(sub)

        return after

    def _info_reader(self, service):
        read = service.actions["GetInfo"]

        def get_info(args):
            service.values["AuthFailures"] = self.gate.failures if self.gate is not None else 0
            return read(args)

        return get_info

    def _set_key(self, args):
        if self.gate is None:  # open mode has no key to rotate
            raise UpnpError(servicetypes.ERR_NOT_AUTHORIZED)
        try:
            self.gate.rotate(args["NewSealedKey"])
        except guard.RotationError:
            raise UpnpError(servicetypes.ERR_ARGUMENT_VALUE_INVALID, "not a sealed key")

    # -- over-the-air updates (ota.py) --------------------------------------------------
    def _healthy(self):
        """An authenticated request (open mode: an answered action) reached us: a new
        version on trial is confirmed."""
        updater = self.updater
        if updater is not None and updater.trial and updater.confirm():
            self.info.values["UpdateResult"] = updater.result

    def _updates(self):
        if self.updater is None:
            raise UpnpError(servicetypes.ERR_OPTIONAL_ACTION_NOT_IMPLEMENTED)
        return self.updater

    def _begin_update(self, args):
        key = self.gate.verifier.key if self.gate is not None else None
        updater = self._updates()
        try:
            updater.begin(
                args["NewVersion"], args["NewDigest"], args["NewAuth"], args["NewForce"], key
            )
        finally:
            self.info.values["UpdateResult"] = updater.result  # begin may confirm a trial

    def _write_update(self, args):
        self._updates().write(args["NewPath"], args["NewOffset"], args["NewData"])

    def _commit_update(self, args):
        self._updates().commit()

    def _restart(self, written=True):
        # After CommitUpdate's answer (written or not: /ug/boot.json already names the
        # new slot, and the loader tries it once).
        self.updater.restart = False
        if self._reboot is not None:
            self._reboot()

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
                raise UpnpError(servicetypes.ERR_OUT_OF_MEMORY)
            except UpnpError:
                raise
            except Exception:  # a HAL failure must not kill the agent
                raise UpnpError(servicetypes.ERR_ACTION_FAILED)
        except soap.SoapError:
            return Response(400)
        except UpnpError as err:
            self._count("upnp-{}".format(err.code))
            return Response(500, [_XML, ("EXT", "")], soap.build_fault(err.code))
        body = soap.build_response(service_type.service_type, action.name, out)
        response = Response(200, [_XML, ("EXT", "")], body)
        if self.updater is not None and self.updater.restart:
            response.after = self._restart
        return response
