# Paired mode's gate in front of the core's request pipeline (core.py): every
# state-changing SOAP action and every SUBSCRIBE / renewal / UNSUBSCRIBE passes
# auth.Verifier on the raw request (method, target, headers, body bytes) before anything
# in its body is parsed; the key lives here and is replaced by SetKey (rotation). Sans-IO:
# the caller gives the clock and a function that stores the key atomically.
from . import auth, log
from .compat import const, ticks_diff
from .http import Response

# A peer (IP) may fail this many authentications (no header, malformed, wrong MAC) within
# _PEER_WINDOW_MS of its first failure; beyond that its authenticated requests get 429
# until the window ends, without even computing a MAC (a brute force cannot win against
# HMAC-SHA256 anyway; the budget caps the CPU a flood costs and makes it visible).
# Refusals after a right MAC (wrong boot id, used counter) are Home Assistant's normal
# retry path and do not count against it.
_PEER_FAILURES = const(5)
_PEER_WINDOW_MS = const(60000)
# Peers remembered at once; a new one replaces the one whose window started first.
_PEERS_MAX = const(8)
_RETRY_AFTER = str(_PEER_WINDOW_MS // 1000)
_SEALED_HEX = const(64)
BOOT_HEADER = "UG-AUTH-BOOT"
# Every 401 names the scheme that would be accepted (RFC 9110, 11.6.1: a 401 MUST carry a
# WWW-Authenticate challenge). One constant pair: no allocation per refusal beyond the
# header list.
CHALLENGE = ("WWW-Authenticate", 'UG-AUTH realm="upnp-guard"')
_HEX = "0123456789abcdefABCDEF"


class RotationError(Exception):
    """SetKey's argument is not 64 hex digits: UPnP 600."""


class Gate:
    def __init__(self, secret, boot_id, clock, store_key):
        self.verifier = auth.Verifier(auth.Key(secret), boot_id)
        self.boot_id = boot_id
        self._clock = clock
        self._store_key = store_key  # store_key(base64 text), atomic; raises OSError
        self.refused = {}  # reason (auth.MISSING, ...) -> count
        self.rate_limited = 0
        # Refusals that were not Home Assistant's retry path (missing, malformed or wrong
        # authenticators, rate-limited peers): AgentInfo's AuthFailures.
        self.failures = 0
        self._peers = {}  # ip -> [failures, ms of the first one]
        self.current = None  # (boot id, counter) of the request that passed last

    def check(self, request, peer_ip):
        """None when `request` is authentic and fresh, else the refusal (a Response)."""
        self.current = None
        now = self._clock()
        entry = self._peers.get(peer_ip)
        if entry is not None and ticks_diff(now, entry[1]) >= _PEER_WINDOW_MS:
            del self._peers[peer_ip]
            entry = None
        if entry is not None and entry[0] >= _PEER_FAILURES:
            self.rate_limited += 1
            self.failures += 1
            return Response(429, [("RETRY-AFTER", _RETRY_AFTER)])
        headers = {}
        for name in auth.SIGNED_HEADERS:
            value = request.header(name.lower())
            if value is not None:
                headers[name] = value
        value = request.header("ug-auth")
        if value is not None:
            headers[auth.HEADER] = value
        verifier = self.verifier
        reason = verifier.check(request.method, request.target, headers, request.body)
        if reason is None:
            self.current = auth.parse_header(value)[:2]
            return None
        self.refused[reason] = self.refused.get(reason, 0) + 1
        if reason == auth.WRONG_BOOT:
            return Response(401, [CHALLENGE, (BOOT_HEADER, str(self.boot_id))])
        if reason == auth.REPLAYED:
            return Response(401, [CHALLENGE, (auth.LAST_HEADER, str(verifier.highest))])
        self.failures += 1
        self._failed(peer_ip, entry, now)
        return Response(401, [CHALLENGE])

    def _failed(self, peer_ip, entry, now):
        if entry is None:
            if len(self._peers) >= _PEERS_MAX:
                oldest = None
                for ip, item in self._peers.items():
                    if oldest is None or ticks_diff(item[1], self._peers[oldest][1]) < 0:
                        oldest = ip
                del self._peers[oldest]
            self._peers[peer_ip] = [1, now]
            return
        entry[0] += 1
        if entry[0] == _PEER_FAILURES:
            log.warning("authentication failures from", peer_ip, "- refusing it for a while")

    def event_headers(self, sid, seq, body):
        """The authenticator of one NOTIFY (gena.SubscriptionManager.take's `sign`)."""
        value = auth.event_header(self.verifier.key, sid, seq, self.boot_id, body)
        return ((auth.HEADER, value),)

    def rotate(self, sealed_hex):
        """SetKey: unseal the new key with the current one, bound to the boot id and
        counter of the request that carried it, store it, and use it from now on."""
        if len(sealed_hex) != _SEALED_HEX or self.current is None:
            raise RotationError()
        for c in sealed_hex:
            if c not in _HEX:
                raise RotationError()
        sealed = bytes(int(sealed_hex[i : i + 2], 16) for i in range(0, _SEALED_HEX, 2))
        boot_id, counter = self.current
        key = self.verifier.key
        secret = key.unwrap(sealed, boot_id, counter)
        self._store_key(auth.format_key(secret))  # OSError: the old key stays in use
        self.verifier.key = auth.Key(secret)
        log.info("pairing key replaced")

    def stats(self):
        return {"auth_refused": dict(self.refused), "auth_rate_limited": self.rate_limited}
