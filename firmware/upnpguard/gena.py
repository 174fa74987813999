# GENA eventing (UDA 1.1 4.1-4.3) with the CallStranger rules of UDA 2.0: subscriptions,
# callback validation, NOTIFY building, SEQ, moderation. Sans-IO: the core (core.py)
# asks `ready()` for subscriptions with something to send, `take()`s their NOTIFY and
# reports `delivered()`. This module owns the count of NOTIFYs in flight; the shell owns
# the tasks that carry them.
from . import limits
from .compat import hexlify, is_digits, ticks_add, ticks_diff
from .ipv4 import ip_to_int
from .xmlutil import escape

_EVENT_NS = "urn:schemas-upnp-org:event-1-0"
_PATH_FORBIDDEN = ' \t\r\n<>"\\{}|^`'


class CallbackRejected(Exception):
    """CALLBACK fails a rule: 412 Precondition Failed."""


def parse_callbacks(header, subnet, requester_ip, allow_other_hosts=False):
    """CALLBACK header -> [(ip, port, path)], or CallbackRejected.

    Rules (CVE-2020-12695 CallStranger, UDA 2.0 4.1.2): at most 256 bytes and 4 URLs,
    each http:// with an IPv4 literal on the agent's own subnet, and by default the
    requester's own address, never the agent itself.
    """
    if header is None:
        raise CallbackRejected("no CALLBACK")
    if len(header) > limits.GENA_CALLBACK_HEADER_MAX:
        raise CallbackRejected("CALLBACK too long")
    urls = []
    rest = header.strip()
    while rest:
        if rest[0] != "<":
            raise CallbackRejected("CALLBACK syntax")
        end = rest.find(">")
        if end < 0:
            raise CallbackRejected("CALLBACK syntax")
        urls.append(rest[1:end])
        rest = rest[end + 1 :].strip()
        if len(urls) > limits.GENA_CALLBACK_URLS_MAX:
            raise CallbackRejected("too many CALLBACK URLs")
    if not urls:
        raise CallbackRejected("no CALLBACK URL")
    result = []
    for url in urls:
        if not url.startswith("http://"):
            raise CallbackRejected("not http://")
        rest = url[7:]
        slash = rest.find("/")
        hostport, path = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
        host, sep, port_text = hostport.partition(":")
        port = 80
        if sep:
            if not is_digits(port_text) or len(port_text) > 5:
                raise CallbackRejected("bad port")
            port = int(port_text)
            if not 0 < port < 65536:
                raise CallbackRejected("bad port")
        if ip_to_int(host) is None:
            raise CallbackRejected("not an IPv4 literal")
        if not subnet.contains(host) or host == subnet.ip:
            raise CallbackRejected("not on the agent's subnet")
        if not allow_other_hosts and host != requester_ip:
            raise CallbackRejected("not the subscriber's own address")
        for ch in path:
            if ch in _PATH_FORBIDDEN or ord(ch) < 32 or ord(ch) > 126:
                raise CallbackRejected("bad path")
        # The usual callback is the subscriber itself: keep one copy of its address.
        result.append((requester_ip if host == requester_ip else host, port, path))
    return result


def parse_timeout(header):
    """TIMEOUT: Second-N | infinite -> seconds clamped to 300..1800."""
    seconds = limits.GENA_TIMEOUT_MAX_S
    if header:
        value = header.strip().lower()
        if value.startswith("second-") and is_digits(value[7:]) and len(value) < 20:
            seconds = int(value[7:])
    return max(limits.GENA_TIMEOUT_MIN_S, min(limits.GENA_TIMEOUT_MAX_S, seconds))


class Subscription:
    # Ten attributes at most: MicroPython grows an instance's attribute table to 8, 10, 12,
    # 17 slots (8 B each on 32-bit), so an eleventh costs 16 B per subscription, 512 B
    # with all 32. The TIMEOUT granted lives only in the SUBSCRIBE response.
    def __init__(self, sid, service, callbacks, subscriber_ip, timeout_s, now):
        self.sid = sid
        self.service = service
        self.callbacks = callbacks
        self.subscriber_ip = subscriber_ip
        self.expires = ticks_add(now, timeout_s * 1000)
        self.seq = 0
        self.failures = 0
        self.ready = False  # the SUBSCRIBE response went out: events may follow
        self.in_flight = False  # a NOTIFY taken and not yet reported delivered
        # Initial event (UDA 1.1 4.2.1): every evented variable, SEQ 0.
        self.pending = [v.name for v in service.type.evented()]

    def next_seq(self):
        seq = self.seq
        # ui4; 0 is reserved for the initial event, so the wrap goes to 1 (UDA 1.1 4.3.2).
        self.seq = 1 if seq >= limits.GENA_SEQ_MAX else seq + 1
        return seq


class SubscriptionManager:
    def __init__(self, subnet, clock, rand_bytes, allow_other_hosts=False):
        self.subnet = subnet
        self.clock = clock
        self.rand_bytes = rand_bytes
        self.allow_other_hosts = allow_other_hosts
        self.subscriptions = []
        self._last_event = {}  # (service id, variable) -> ticks of the last event
        self._deferred = {}  # (service id, variable) -> (service, due ticks)
        self.dropped = 0  # subscriptions dropped after repeated NOTIFY failures
        self.released = 0  # subscriptions whose SUBSCRIBE response could not be written
        # NOTIFYs taken and not yet delivered, over all subscriptions, also those removed
        # meanwhile (UNSUBSCRIBE, expiry): each holds a socket and its event bytes.
        self.in_flight = 0
        self.in_flight_peak = 0
        self.on_pending = None  # called when a subscription has an event to send
        self.on_removed = None  # on_removed(sub): a subscription with a NOTIFY in flight left

    def attach(self, service):
        service.listener = self.on_change

    def _new_sid(self):
        raw = hexlify(self.rand_bytes(16))
        return "uuid:{}-{}-{}-{}-{}".format(raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:])

    def find(self, sid):
        for sub in self.subscriptions:
            if sub.sid == sid:
                return sub
        return None

    # subscribe() and unsubscribe() answer (status, headers, new subscription or None).
    def subscribe(self, request, service, requester_ip):
        sid = request.header("sid")
        callback = request.header("callback")
        nt = request.header("nt")
        now = self.clock()
        if sid is not None:
            # UDA 1.1 4.1.2: a renewal carries neither CALLBACK nor NT.
            if callback is not None or nt is not None:
                return 400, (), None
            sub = self.find(sid)
            if sub is None or sub.service is not service or sub.subscriber_ip != requester_ip:
                return 412, (), None
            timeout_s = parse_timeout(request.header("timeout"))
            sub.expires = ticks_add(now, timeout_s * 1000)
            return 200, _headers(sid, timeout_s), None
        if nt != "upnp:event":
            return 412, (), None
        try:
            callbacks = parse_callbacks(callback, self.subnet, requester_ip, self.allow_other_hosts)
        except CallbackRejected:
            return 412, (), None
        self.expire(now)
        if len(self.subscriptions) >= limits.GENA_MAX_SUBSCRIPTIONS_TOTAL:
            return 503, (), None
        per_service = 0
        per_peer = 0
        for sub in self.subscriptions:
            if sub.service is service:
                per_service += 1
                if sub.subscriber_ip == requester_ip:
                    per_peer += 1
        if (
            per_service >= limits.GENA_MAX_SUBSCRIPTIONS_PER_SERVICE
            or per_peer >= limits.GENA_MAX_SUBSCRIPTIONS_PER_PEER
        ):
            return 503, (), None
        timeout_s = parse_timeout(request.header("timeout"))
        sub = Subscription(self._new_sid(), service, callbacks, requester_ip, timeout_s, now)
        self.subscriptions.append(sub)
        return 200, _headers(sub.sid, timeout_s), sub

    def unsubscribe(self, request, service, requester_ip):
        sid = request.header("sid")
        if request.header("callback") is not None or request.header("nt") is not None:
            return 400, (), None
        if sid is None:
            return 412, (), None
        sub = self.find(sid)
        if sub is None or sub.service is not service or sub.subscriber_ip != requester_ip:
            return 412, (), None
        self._remove(sub)
        return 200, (), None

    def release(self, sub):
        """The SUBSCRIBE response for `sub` could not be written: the subscriber never
        learnt its SID, so nobody would renew or cancel it; free its place now."""
        if sub in self.subscriptions:
            self._remove(sub)
            self.released += 1

    def _remove(self, sub):
        self.subscriptions.remove(sub)
        if sub.in_flight and self.on_removed is not None:
            self.on_removed(sub)

    # -- events ---------------------------------------------------------------------
    def on_change(self, service, name):
        var = service.type.variable(name)
        key = (id(service), name)
        now = self.clock()
        if var.moderated:
            last = self._last_event.get(key)
            if last is not None and ticks_diff(now, last) < limits.GENA_MODERATION_MS:
                if key not in self._deferred:
                    self._deferred[key] = (service, ticks_add(last, limits.GENA_MODERATION_MS))
                return
            self._last_event[key] = now
        self._dispatch(service, name)

    def _dispatch(self, service, name):
        for sub in self.subscriptions:
            if sub.service is service and name not in sub.pending:
                sub.pending.append(name)
                if self.on_pending is not None:
                    self.on_pending()

    def expire(self, now=None):
        now = self.clock() if now is None else now
        for sub in list(self.subscriptions):
            if ticks_diff(now, sub.expires) >= 0:
                self._remove(sub)
        for key in list(self._deferred):
            service, due = self._deferred[key]
            if ticks_diff(now, due) >= 0:
                del self._deferred[key]
                self._last_event[key] = now
                self._dispatch(service, key[1])

    def ready(self):
        """Subscriptions to send a NOTIFY to now: at most GENA_MAX_NOTIFY_IN_FLIGHT open,
        counted over every NOTIFY taken and not yet delivered (`self.in_flight`)."""
        room = limits.GENA_MAX_NOTIFY_IN_FLIGHT - self.in_flight
        out = []
        for s in self.subscriptions:
            if room <= 0:
                break
            if s.ready and s.pending and not s.in_flight:
                out.append(s)
                room -= 1
        return out

    def take(self, sub, sign=None):
        """The next NOTIFY for `sub`: (ip, port, request bytes); marks it in flight, and
        the caller must report `delivered()` for it once it is sent or given up.

        `sign(sid, seq, body)`, in paired mode, gives the authenticator's headers.
        """
        names = sub.pending
        body = build_propertyset([(n, sub.service.encoded(n)) for n in names])
        ip, port, path = sub.callbacks[min(sub.failures, len(sub.callbacks) - 1)]
        seq = sub.seq
        extra = sign(sub.sid, seq, body) if sign is not None else ()
        head = build_notify_head(ip, port, path, sub.sid, seq, len(body), extra)
        data = head + body
        # Only now that nothing can fail (MemoryError) does the event leave `pending`.
        sub.next_seq()
        sub.pending = []
        sub.in_flight = True
        self.in_flight += 1
        if self.in_flight > self.in_flight_peak:
            self.in_flight_peak = self.in_flight
        return ip, port, data

    def delivered(self, sub, ok):
        if not sub.in_flight:
            return  # reported twice: count it once
        sub.in_flight = False
        self.in_flight -= 1
        if sub not in self.subscriptions:
            return  # removed meanwhile (UNSUBSCRIBE, expiry, released): nothing to count
        if ok:
            sub.failures = 0
            return
        sub.failures += 1
        if sub.failures >= limits.GENA_MAX_FAILURES:
            self.subscriptions.remove(sub)
            self.dropped += 1


def _headers(sid, timeout_s):
    return [("SID", sid), ("TIMEOUT", "Second-{}".format(timeout_s))]


def build_propertyset(items):
    parts = ['<?xml version="1.0"?>\n<e:propertyset xmlns:e="', _EVENT_NS, '">']
    for name, value in items:
        parts.append("<e:property><" + name + ">" + escape(value) + "</" + name + "></e:property>")
    parts.append("</e:propertyset>\n")
    return "".join(parts).encode()


def build_notify_head(ip, port, path, sid, seq, length, extra_headers=()):
    lines = [
        "NOTIFY " + path + " HTTP/1.1",
        "HOST: {}:{}".format(ip, port),
        'CONTENT-TYPE: text/xml; charset="utf-8"',
        "NT: upnp:event",
        "NTS: upnp:propchange",
        "SID: " + sid,
        "SEQ: {}".format(seq),
        "CONTENT-LENGTH: {}".format(length),
        "CONNECTION: close",
    ]
    for name, value in extra_headers:
        lines.append(name + ": " + value)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
