# Paired mode: HMAC-SHA256 authenticators on requests to the agent and on its events, as
# specified in docs/protocol.md ("Authentication"), with the test vectors in
# tests/vectors/auth_v1.json. Sans-IO and allocation-light: one Key per board holds the
# padded HMAC keys, so a request costs two SHA-256 runs over short strings plus one
# over the body. MicroPython has hashlib.sha256 but no hmac: HMAC (RFC 2104) is built
# here and checked against CPython's hmac by the unit tests.
import hashlib

try:
    import binascii
except ImportError:  # pragma: no cover - every supported port has one of them
    import ubinascii as binascii

from .compat import const

VERSION = "1"
HEADER = "UG-AUTH"  # the request's and the event's authenticator
LAST_HEADER = "UG-AUTH-LAST"  # in a refusal: the highest counter accepted so far
KEY_BYTES = const(32)
MAC_HEX = const(64)
_BLOCK = const(64)  # SHA-256 block size
# Counters may arrive out of order (Home Assistant sends requests concurrently): one is
# accepted when above the highest seen, or within this many below it and not seen yet.
# 24 keeps the bitmap a small int on a 32-bit board (31-bit small ints).
REPLAY_WINDOW = const(24)
_WINDOW_MASK = const(0xFFFFFF)
# Counters are decimal, at most this many digits (2^53 fits; no unbounded int parsing).
_COUNTER_DIGITS = const(16)
# Header fields of a request that the MAC covers, in this order (empty when absent).
SIGNED_HEADERS = ("SOAPACTION", "CALLBACK", "NT", "SID", "TIMEOUT")


def _pads(secret):
    """HMAC's inner and outer padded keys (RFC 2104)."""
    if len(secret) > _BLOCK:
        secret = hashlib.sha256(secret).digest()
    padded = bytes(secret) + bytes(_BLOCK - len(secret))
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def _hmac(inner_pad, outer_pad, message):
    inner = hashlib.sha256(inner_pad)
    inner.update(message)
    outer = hashlib.sha256(outer_pad)
    outer.update(inner.digest())
    return outer.digest()


def hmac_sha256(secret, message):
    """HMAC-SHA256 with a key of any length (the unit tests check it against RFC 4231)."""
    inner_pad, outer_pad = _pads(secret)
    return _hmac(inner_pad, outer_pad, message)


class Key:
    """A board's 32-byte key, with the HMAC pads computed once."""

    def __init__(self, secret):
        if len(secret) != KEY_BYTES:
            raise ValueError("key must be 32 bytes")
        self._inner, self._outer = _pads(secret)

    def mac(self, message):
        return _hmac(self._inner, self._outer, message)

    def wrap(self, new_secret, boot_id, counter):
        """A new key sealed for rotation: XOR with a pad only the holder of this key can
        compute, bound to the request that carries it (boot id and counter)."""
        pad = self.mac(b"UG1-ROTATE\n%d\n%d" % (boot_id, counter))
        return bytes(a ^ b for a, b in zip(new_secret, pad))

    def unwrap(self, sealed, boot_id, counter):
        return self.wrap(sealed, boot_id, counter)  # XOR is its own inverse


def parse_key(text):
    """The key as the config flow and the console show it: base64 of 32 bytes."""
    try:
        # Bytes: MicroPython 1.27+ (the WebAssembly port at least) refuses a str here.
        secret = binascii.a2b_base64(text.strip().encode())
    except Exception:
        raise ValueError("key is not base64")
    if len(secret) != KEY_BYTES:
        raise ValueError("key must be 32 bytes")
    return secret


def format_key(secret):
    return binascii.b2a_base64(secret).decode().strip()


def body_digest(body):
    return binascii.hexlify(hashlib.sha256(body).digest())


def request_message(method, path, headers, boot_id, counter, body):
    """The canonical string a request's MAC covers. `headers` maps upper-case names to
    values (missing ones are empty)."""
    parts = [b"UG1-REQ", method.encode(), path.encode()]
    for name in SIGNED_HEADERS:
        parts.append(headers.get(name, "").strip().encode())
    parts.append(b"%d" % boot_id)
    parts.append(b"%d" % counter)
    parts.append(body_digest(body))
    return b"\n".join(parts)


def event_message(sid, seq, boot_id, body):
    """The canonical string an event's (NOTIFY's) MAC covers."""
    return b"\n".join((b"UG1-EVENT", sid.encode(), b"%d" % seq, b"%d" % boot_id, body_digest(body)))


def equal(a, b):
    """Constant-time comparison of two byte strings of the same length."""
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= x ^ y
    return diff == 0


def _digits(text, limit):
    if not text or len(text) > limit:
        return None
    for c in text:
        if c < "0" or c > "9":
            return None
    return int(text)


def parse_header(value):
    """`1 <boot id> <counter> <mac hex>` -> (boot_id, counter, mac bytes), or None."""
    fields = value.split()
    if len(fields) != 4 or fields[0] != VERSION or len(fields[3]) != MAC_HEX:
        return None
    boot_id = _digits(fields[1], 10)
    counter = _digits(fields[2], _COUNTER_DIGITS)
    if boot_id is None or counter is None:
        return None
    try:
        mac = binascii.unhexlify(fields[3])
    except Exception:
        return None
    return boot_id, counter, mac


def request_header(key, method, path, headers, boot_id, counter, body):
    """The header value Home Assistant (or a test) sends: the signing side, here for the
    unit tests and the tools; the agent only verifies."""
    message = request_message(method, path, headers, boot_id, counter, body)
    return "%s %d %d %s" % (
        VERSION,
        boot_id,
        counter,
        binascii.hexlify(key.mac(message)).decode(),
    )


def event_header(key, sid, seq, boot_id, body):
    mac = key.mac(event_message(sid, seq, boot_id, body))
    return "%s %d %s" % (VERSION, boot_id, binascii.hexlify(mac).decode())


# Why a request was refused (counted per reason).
MISSING = "missing"
MALFORMED = "malformed"
WRONG_BOOT = "wrong_boot"
REPLAYED = "replayed"
BAD_MAC = "bad_mac"


class Verifier:
    """Checks requests in paired mode: the MAC, the boot id, and a counter never accepted
    before (highest seen plus a bitmap of the REPLAY_WINDOW below it; nothing is written
    to flash per request: a reboot raises the boot id instead)."""

    def __init__(self, key, boot_id):
        self.key = key
        self.boot_id = boot_id
        self.highest = 0
        self._seen = 0  # bit i: highest - i was accepted

    def check(self, method, path, headers, body):
        """None when the request is authentic and fresh (its counter is then used up),
        else the reason it is refused. Nothing in the body is parsed."""
        value = headers.get(HEADER)
        if value is None:
            return MISSING
        parsed = parse_header(value)
        if parsed is None:
            return MALFORMED
        boot_id, counter, mac = parsed
        message = request_message(method, path, headers, boot_id, counter, body)
        if not equal(self.key.mac(message), mac):
            return BAD_MAC
        if boot_id != self.boot_id:
            return WRONG_BOOT
        if not self._fresh(counter):
            return REPLAYED
        self._accept(counter)
        return None

    def _fresh(self, counter):
        if counter > self.highest:
            return True
        behind = self.highest - counter
        return behind < REPLAY_WINDOW and not (self._seen >> behind) & 1 and counter > 0

    def _accept(self, counter):
        if counter > self.highest:
            shift = counter - self.highest
            if shift < REPLAY_WINDOW:
                self._seen = ((self._seen & (_WINDOW_MASK >> shift)) << shift) | 1
            else:
                self._seen = 1
            self.highest = counter
        else:
            self._seen |= 1 << (self.highest - counter)
