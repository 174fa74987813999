"""Paired agents: the authenticators Home Assistant adds to its requests and checks on
the agent's events (docs/protocol.md, "Authentication"; test vectors in
tests/vectors/auth_v1.json, shared with the firmware's tests).

- `AgentKey`: the 32-byte key the user enters (base64), and the canonical strings.
- `SigningRequester`: a `UpnpRequester` for one agent, in front of the guarded
  `DeviceRequester`: every request but a GET/HEAD (SOAP, SUBSCRIBE, renewals,
  UNSUBSCRIBE) carries `UG-AUTH` over its method, path, the signed headers, the agent's
  boot id, a counter that never repeats, and the body's digest. A refusal that names a
  higher counter or another boot id is retried once with them (Home Assistant restarted
  with a clock behind, or the agent rebooted since its last announcement).
  A caller that binds data to a request's freshness (SetKey's seal) first `reserve()`s
  a boot id and counter, builds the request around them, and sends it inside
  `carrying(reservation)`: that request carries exactly them and is not retried with
  others (the data would no longer match); a refusal that proves the key marks the
  reservation `stale` (the requester has learned what to use) and the caller reserves
  again.
- `EventVerifier`: a NOTIFY from a paired agent must carry `UG-AUTH` over SID, SEQ, boot
  id and body, and a SEQ above the last one accepted for its SID.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final, override
from urllib.parse import urlsplit

from async_upnp_client.client import UpnpRequester
from async_upnp_client.const import HttpRequest, HttpResponse

AUTH_VERSION: Final = "1"
AUTH_HEADER: Final = "UG-AUTH"
LAST_HEADER: Final = "UG-AUTH-LAST"  # a refusal's highest counter accepted so far
BOOT_HEADER: Final = "UG-AUTH-BOOT"  # a refusal's current boot id
KEY_BYTES: Final = 32
SIGNED_HEADERS: Final = ("SOAPACTION", "CALLBACK", "NT", "SID", "TIMEOUT")
# Counters are decimal with at most 16 digits on the wire (the agent's parser bound).
MAX_COUNTER: Final = 10**16 - 1
UNAUTHORIZED: Final = 401


class InvalidKey(ValueError):
    """The text is not the base64 of 32 bytes."""


def parse_key(text: str) -> bytes:
    """The key as the agent prints it and the user enters it: base64 of 32 bytes."""
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as err:
        raise InvalidKey("not base64") from err
    if len(secret) != KEY_BYTES:
        raise InvalidKey("not 32 bytes")
    return secret


def format_key(secret: bytes) -> str:
    return base64.b64encode(secret).decode()


def _digest(body: bytes) -> bytes:
    return hashlib.sha256(body).hexdigest().encode()


def request_message(
    method: str, path: str, headers: Mapping[str, str], *, boot_id: int, counter: int, body: bytes
) -> bytes:
    """The canonical string of a request; `headers` are looked up case-insensitively."""
    upper = {name.upper(): value for name, value in headers.items()}
    parts = [b"UG1-REQ", method.encode(), path.encode()]
    parts += [upper.get(name, "").strip().encode() for name in SIGNED_HEADERS]
    parts += [str(boot_id).encode(), str(counter).encode(), _digest(body)]
    return b"\n".join(parts)


def event_message(sid: str, seq: int, boot_id: int, body: bytes) -> bytes:
    """The canonical string of an event (NOTIFY)."""
    fields = (b"UG1-EVENT", sid.encode(), str(seq).encode(), str(boot_id).encode())
    return b"\n".join((*fields, _digest(body)))


@dataclass(frozen=True, slots=True)
class AgentKey:
    """One agent's key."""

    secret: bytes = field(repr=False)

    def mac(self, message: bytes) -> bytes:
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def request_header(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        *,
        boot_id: int,
        counter: int,
        body: bytes,
    ) -> str:
        mac = self.mac(
            request_message(method, path, headers, boot_id=boot_id, counter=counter, body=body)
        )
        return f"{AUTH_VERSION} {boot_id} {counter} {mac.hex()}"

    def event_header(self, sid: str, seq: int, boot_id: int, body: bytes) -> str:
        mac = self.mac(event_message(sid, seq, boot_id, body))
        return f"{AUTH_VERSION} {boot_id} {mac.hex()}"

    def seal(self, new_secret: bytes, boot_id: int, counter: int) -> bytes:
        """A new key for rotation, sealed with this one and bound to its request."""
        pad = self.mac(f"UG1-ROTATE\n{boot_id}\n{counter}".encode())
        return bytes(a ^ b for a, b in zip(new_secret, pad, strict=True))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _body(http_request: HttpRequest) -> bytes:
    body = http_request.body
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else bytes(body)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    for key, value in headers.items():
        if key.upper() == name and value.strip().isdecimal() and len(value.strip()) <= 16:
            return int(value.strip())
    return None


class Counter:
    """Counters for one agent: never repeated, increasing, starting from the clock in
    milliseconds so a restarted Home Assistant starts above what it used before."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> int:
        self._last = min(max(self._last + 1, self._clock() // 1_000_000), MAX_COUNTER)
        return self._last

    def skip_to(self, accepted: int) -> None:
        """The agent has accepted `accepted` already: continue above it."""
        self._last = max(self._last, min(accepted, MAX_COUNTER))


def proves_key(headers: Mapping[str, str]) -> bool:
    """A 401 that names the boot id or the last counter: the agent verified our MAC (it
    says more only to a holder of the key), so the key is right and only the freshness
    was not."""
    return any(_header_int(headers, name) is not None for name in (BOOT_HEADER, LAST_HEADER))


@dataclass(slots=True)
class Reservation:
    """The boot id and counter one signed request will carry, known before it is built."""

    boot_id: int
    counter: int
    # Refused after a right MAC (another boot id, a counter used up): reserve again.
    stale: bool = False
    used: bool = False


# The reservation the next signed request of a requester in this task carries.
_CARRYING: ContextVar[tuple[SigningRequester, Reservation] | None] = ContextVar(
    "upnp_guard_carrying", default=None
)


class SigningRequester(UpnpRequester):
    """Adds UG-AUTH to one paired agent's requests (module docstring)."""

    def __init__(
        self,
        inner: UpnpRequester,
        key: AgentKey,
        boot_id: Callable[[], int],
        learn_boot_id: Callable[[int], None],
        counter: Counter | None = None,
    ) -> None:
        self._inner = inner
        self._key = key
        self._boot_id = boot_id
        self._learn_boot_id = learn_boot_id
        self._counter = counter or Counter()
        self.refusals = 0

    @property
    def key(self) -> AgentKey:
        return self._key

    @property
    def boot_id(self) -> int:
        """The boot id requests are signed with now."""
        return self._boot_id()

    def use_key(self, key: AgentKey) -> None:
        """Sign with `key` from now on (the agent took it: rotation)."""
        self._key = key

    def reserve(self) -> Reservation:
        """A boot id and a counter of their own for one request (module docstring)."""
        return Reservation(self._boot_id(), self._counter.next())

    @contextmanager
    def carrying(self, reservation: Reservation) -> Iterator[None]:
        """The next signed request through this requester in this task carries
        `reservation`, once; a second one would be a replay and is signed as usual."""
        token = _CARRYING.set((self, reservation))
        try:
            yield
        finally:
            _CARRYING.reset(token)

    def _reserved(self) -> Reservation | None:
        carried = _CARRYING.get()
        if carried is None or carried[0] is not self or carried[1].used:
            return None
        carried[1].used = True
        return carried[1]

    @override
    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        if http_request.method in ("GET", "HEAD"):
            return await self._inner.async_http_request(http_request)
        reservation = self._reserved()
        response = await self._inner.async_http_request(self._signed(http_request, reservation))
        if response.status_code != UNAUTHORIZED:
            return response
        # Retry once when the refusal tells us what we could not know.
        retry = False
        if (boot := _header_int(response.headers, BOOT_HEADER)) is not None and boot != (
            self._boot_id()
        ):
            self._learn_boot_id(boot)
            retry = True
        if (last := _header_int(response.headers, LAST_HEADER)) is not None:
            self._counter.skip_to(last)
            retry = True
        if not retry:
            self.refusals += 1
            return response
        if reservation is not None:
            # Bound to what it carried: the caller reserves again and rebuilds it.
            reservation.stale = True
            return response
        response = await self._inner.async_http_request(self._signed(http_request))
        if response.status_code == UNAUTHORIZED:
            self.refusals += 1
        return response

    def _signed(
        self, http_request: HttpRequest, reservation: Reservation | None = None
    ) -> HttpRequest:
        headers = {
            name: value
            for name, value in http_request.headers.items()
            if name.upper() != AUTH_HEADER
        }
        if reservation is None:
            boot_id, counter = self._boot_id(), self._counter.next()
        else:
            boot_id, counter = reservation.boot_id, reservation.counter
        headers[AUTH_HEADER] = self._key.request_header(
            http_request.method,
            _path(http_request.url),
            headers,
            boot_id=boot_id,
            counter=counter,
            body=_body(http_request),
        )
        return HttpRequest(http_request.method, http_request.url, headers, http_request.body)


def parse_event_header(value: str) -> tuple[int, bytes] | None:
    """`1 <boot id> <mac hex>` -> (boot id, mac), or None."""
    fields = value.split()
    if len(fields) != 3 or fields[0] != AUTH_VERSION or not fields[1].isdecimal():
        return None
    if len(fields[1]) > 10 or len(fields[2]) != 64:
        return None
    try:
        return int(fields[1]), bytes.fromhex(fields[2])
    except ValueError:
        return None


class EventVerifier:
    """Checks one paired agent's NOTIFYs: a MAC over SID, SEQ, boot id and body, and a
    SEQ above the last one accepted for that SID (no replay, no reordering)."""

    MISSING: Final = "missing"
    MALFORMED: Final = "malformed"
    FORGED: Final = "forged"
    REPLAYED: Final = "replayed"

    def __init__(self, key: AgentKey) -> None:
        self._key = key
        self._last_seq: dict[str, int] = {}

    def use_key(self, key: AgentKey) -> None:
        """The agent signs with `key` from now on (rotation); SEQs stay tracked."""
        self._key = key

    def check(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """None for an authentic, fresh event (its SEQ is then used up), else why not."""
        upper = {name.upper(): value for name, value in headers.items()}
        value = upper.get(AUTH_HEADER)
        if value is None:
            return self.MISSING
        parsed = parse_event_header(value)
        sid = upper.get("SID", "")
        seq_text = upper.get("SEQ", "").strip()
        if parsed is None or not sid or not seq_text.isdecimal() or len(seq_text) > 10:
            return self.MALFORMED
        boot_id, mac = parsed
        seq = int(seq_text)
        expected = self._key.mac(event_message(sid, seq, boot_id, body))
        if not hmac.compare_digest(expected, mac):
            return self.FORGED
        last = self._last_seq.get(sid)
        if last is not None and seq <= last:
            return self.REPLAYED
        self._last_seq[sid] = seq
        return None

    def forget(self, sid: str) -> None:
        """The subscription ended: its SEQs are no longer tracked."""
        self._last_seq.pop(sid, None)
