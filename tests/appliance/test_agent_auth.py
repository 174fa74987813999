"""Paired mode on the Home Assistant side (agent_auth.py): the shared test vectors, and
the integration's signing checked by the firmware's own verifier (and the other way
round for events), so the two implementations cannot drift apart."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from async_upnp_client.client import UpnpRequester
from async_upnp_client.const import HttpRequest, HttpResponse

from custom_components.upnp_guard.agent_auth import (
    AUTH_HEADER,
    BOOT_HEADER,
    LAST_HEADER,
    AgentKey,
    Counter,
    EventVerifier,
    InvalidKey,
    SigningRequester,
    event_message,
    format_key,
    parse_key,
    proves_key,
    request_message,
)

REPO = Path(__file__).resolve().parents[2]
VECTORS = json.loads((REPO / "tests" / "vectors" / "auth_v1.json").read_text())
sys.path.insert(0, str(REPO / "firmware"))
from upnpguard import auth as firmware_auth  # noqa: E402

KEY = AgentKey(parse_key(VECTORS["key_base64"]))
SOAP_URL = "http://10.0.0.9:49152/1/0a1b2c3d4e/ctl/SwitchPower"


def test_request_vectors() -> None:
    for case in VECTORS["requests"]:
        body = case["body"].encode()
        args = (case["method"], case["path"], case["headers"])
        fresh = {"boot_id": case["boot_id"], "counter": case["counter"], "body": body}
        assert request_message(*args, **fresh) == case["canonical"].encode()
        assert KEY.request_header(*args, **fresh) == case["header"]


def test_event_and_rotation_vectors() -> None:
    for case in VECTORS["events"]:
        body = case["body"].encode()
        message = event_message(case["sid"], case["seq"], case["boot_id"], body)
        assert message == case["canonical"].encode()
        assert KEY.event_header(case["sid"], case["seq"], case["boot_id"], body) == case["header"]
    rotation = VECTORS["rotations"][0]
    sealed = KEY.seal(
        parse_key(rotation["new_key_base64"]), rotation["boot_id"], rotation["counter"]
    )
    assert sealed.hex() == rotation["sealed_hex"]


def test_keys() -> None:
    assert format_key(parse_key(VECTORS["key_base64"])) == VECTORS["key_base64"]
    for bad in ("", "AQID", "not base64!", VECTORS["key_base64"][:-4], " " * 44):
        with pytest.raises(InvalidKey):
            parse_key(bad)
    assert repr(KEY) == "AgentKey()"  # never in a log line


class Agent(UpnpRequester):
    """Stands for the agent's HTTP side in these unit tests: the firmware's Verifier
    decides, as on the board (the real agent answers in tests/integration)."""

    def __init__(self, boot_id: int = 7) -> None:
        self.verifier = firmware_auth.Verifier(
            firmware_auth.Key(parse_key(VECTORS["key_base64"])), boot_id
        )
        self.seen: list[HttpRequest] = []

    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        self.seen.append(http_request)
        if http_request.method == "GET":
            return HttpResponse(200, {}, "<root/>")
        headers = {name.upper(): value for name, value in http_request.headers.items()}
        path = http_request.url.split("49152", 1)[1]
        body = (http_request.body or "").encode()
        reason = self.verifier.check(http_request.method, path, headers, body)
        if reason is None:
            return HttpResponse(200, {}, "ok")
        extra: dict[str, str] = {}
        if reason == firmware_auth.WRONG_BOOT:
            extra[BOOT_HEADER] = str(self.verifier.boot_id)
        if reason == firmware_auth.REPLAYED:
            extra[LAST_HEADER] = str(self.verifier.highest)
        return HttpResponse(401, extra, reason)


def soap_request(body: str = "<s:Envelope/>") -> HttpRequest:
    headers = {"SOAPAction": '"urn:schemas-upnp-org:service:SwitchPower:1#SetTarget"'}
    return HttpRequest("POST", SOAP_URL, headers, body)


class Boot:
    def __init__(self, value: int) -> None:
        self.value = value

    def get(self) -> int:
        return self.value

    def learn(self, value: int) -> None:
        self.value = value


async def test_signed_requests_pass_the_firmware_verifier() -> None:
    agent = Agent()
    boot = Boot(7)
    requester = SigningRequester(agent, KEY, boot.get, boot.learn)
    for _ in range(3):
        assert (await requester.async_http_request(soap_request())).status_code == 200
    subscribe = HttpRequest(
        "SUBSCRIBE",
        SOAP_URL.replace("ctl", "evt"),
        {"CALLBACK": "<http://10.0.0.5:4000/notify>", "NT": "upnp:event", "TIMEOUT": "Second-1800"},
        None,
    )
    assert (await requester.async_http_request(subscribe)).status_code == 200
    # Descriptions are read unsigned.
    await requester.async_http_request(
        HttpRequest("GET", "http://10.0.0.9:49152/desc.xml", {}, None)
    )
    assert AUTH_HEADER not in agent.seen[-1].headers
    assert requester.refusals == 0


async def test_a_restarted_home_assistant_behind_in_time_catches_up_once() -> None:
    agent = Agent()
    boot = Boot(7)
    ahead = SigningRequester(agent, KEY, boot.get, boot.learn, Counter(lambda: 10**15))
    assert (await ahead.async_http_request(soap_request())).status_code == 200
    behind = SigningRequester(agent, KEY, boot.get, boot.learn, Counter(lambda: 10**12))
    assert (await behind.async_http_request(soap_request())).status_code == 200
    assert len(agent.seen) == 3  # refused once (stale), retried above the agent's highest
    assert behind.refusals == 0


async def test_a_rebooted_agent_is_followed_once() -> None:
    agent = Agent(boot_id=8)
    boot = Boot(7)
    requester = SigningRequester(agent, KEY, boot.get, boot.learn)
    assert (await requester.async_http_request(soap_request())).status_code == 200
    assert boot.value == 8


async def test_a_wrong_key_is_refused_without_retry() -> None:
    agent = Agent()
    boot = Boot(7)
    wrong = SigningRequester(agent, AgentKey(bytes(32)), boot.get, boot.learn)
    assert (await wrong.async_http_request(soap_request())).status_code == 401
    assert len(agent.seen) == 1
    assert wrong.refusals == 1


def carried(request: HttpRequest) -> tuple[int, int]:
    """(boot id, counter) of a signed request's UG-AUTH."""
    parsed = firmware_auth.parse_header(request.headers[AUTH_HEADER])
    assert parsed is not None
    return parsed[0], parsed[1]


async def test_a_reserved_freshness_is_carried_exactly_once() -> None:
    agent = Agent()
    boot = Boot(7)
    requester = SigningRequester(agent, KEY, boot.get, boot.learn)
    other = SigningRequester(agent, KEY, boot.get, boot.learn, Counter(lambda: 10**21))
    reservation = requester.reserve()
    assert reservation.boot_id == 7
    # Reserved counters are the requester's own: the next plain request gets another.
    assert (await requester.async_http_request(soap_request())).status_code == 200
    assert carried(agent.seen[-1])[1] > reservation.counter
    with requester.carrying(reservation):
        # The first request of this one carries the reservation (accepted: in the window).
        assert (await requester.async_http_request(soap_request("<a/>"))).status_code == 200
        assert carried(agent.seen[-1]) == (reservation.boot_id, reservation.counter)
        # Another requester in the same task signs as usual.
        assert (await other.async_http_request(soap_request())).status_code == 200
        assert carried(agent.seen[-1]) == (7, 10**15)
        # A second one in the same block would be a replay: it gets a counter of its own.
        await requester.async_http_request(soap_request("<b/>"))
        assert carried(agent.seen[-1])[1] not in (reservation.counter, 10**15)
    assert reservation.used
    assert not reservation.stale


async def test_a_reserved_request_is_not_retried_with_other_freshness() -> None:
    agent = Agent(boot_id=8)  # rebooted since: the reservation's boot id is stale
    boot = Boot(7)
    requester = SigningRequester(agent, KEY, boot.get, boot.learn)
    reservation = requester.reserve()
    with requester.carrying(reservation):
        response = await requester.async_http_request(soap_request())
    assert response.status_code == 401
    assert proves_key(response.headers)
    assert len(agent.seen) == 1  # not resent: what it carried is bound to the reservation
    assert reservation.stale
    assert boot.value == 8  # learned: the next reservation is right
    again = requester.reserve()
    assert again.boot_id == 8
    with requester.carrying(again):
        assert (await requester.async_http_request(soap_request())).status_code == 200
    assert carried(agent.seen[-1]) == (8, again.counter)
    # A wrong key's refusal proves nothing and leaves the reservation not stale.
    wrong = SigningRequester(agent, AgentKey(bytes(32)), boot.get, boot.learn)
    reservation = wrong.reserve()
    with wrong.carrying(reservation):
        response = await wrong.async_http_request(soap_request())
    assert response.status_code == 401
    assert not proves_key(response.headers)
    assert not reservation.stale


def firmware_event(sid: str, seq: int, body: bytes, boot_id: int = 7) -> Mapping[str, str]:
    key = firmware_auth.Key(parse_key(VECTORS["key_base64"]))
    return {
        "SID": sid,
        "SEQ": str(seq),
        AUTH_HEADER: firmware_auth.event_header(key, sid, seq, boot_id, body),
    }


def test_events_signed_by_the_firmware_verify_once_and_in_order() -> None:
    verifier = EventVerifier(KEY)
    sid = "uuid:5b1e0c2a-0000-4000-8000-000000000001"
    body = b"<e:propertyset/>"
    assert verifier.check(firmware_event(sid, 0, body), body) is None
    assert verifier.check(firmware_event(sid, 1, body), body) is None
    assert verifier.check(firmware_event(sid, 1, body), body) == EventVerifier.REPLAYED
    assert verifier.check(firmware_event(sid, 0, body), body) == EventVerifier.REPLAYED
    assert verifier.check(firmware_event(sid, 3, body), body) is None
    assert verifier.check(firmware_event(sid, 2, body), body) == EventVerifier.REPLAYED
    # Tampered: body, SEQ, SID, boot id; no header; a garbled one.
    headers: dict[str, Any] = dict(firmware_event(sid, 4, body))
    assert verifier.check(headers, body + b" ") == EventVerifier.FORGED
    assert verifier.check({**headers, "SEQ": "5"}, body) == EventVerifier.FORGED
    assert verifier.check({**headers, "SID": "uuid:other"}, body) == EventVerifier.FORGED
    other_boot = headers[AUTH_HEADER].replace("1 7 ", "1 6 ", 1)  # MAC made for boot 7
    assert verifier.check({**headers, AUTH_HEADER: other_boot}, body) == EventVerifier.FORGED
    assert verifier.check({"SID": sid, "SEQ": "4"}, body) == EventVerifier.MISSING
    for garbled in ("1 7", "2 7 " + "0" * 64, "1 x " + "0" * 64, "1 7 " + "zz" * 32):
        assert verifier.check({**headers, AUTH_HEADER: garbled}, body) == EventVerifier.MALFORMED
    assert verifier.check({**headers, "SEQ": "-4"}, body) == EventVerifier.MALFORMED
    # The refusals used up nothing.
    assert verifier.check(headers, body) is None
    verifier.forget(sid)
    assert verifier.check(firmware_event(sid, 0, body), body) is None


class Refusing(UpnpRequester):
    """Refuses everything with a 401 carrying `headers`."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
        return HttpResponse(401, self.headers, "")


async def test_only_a_refusal_that_proves_nothing_starts_reauth() -> None:
    from custom_components.upnp_guard.paired import PairedAgent  # noqa: PLC0415

    boot = Boot(7)
    for headers, reauth in (({LAST_HEADER: "99"}, False), ({BOOT_HEADER: "9"}, False), ({}, True)):
        refused: list[bool] = []
        agent = PairedAgent(
            "entry",
            SigningRequester(Refusing(headers), KEY, boot.get, boot.learn),
            EventVerifier(KEY),
            on_key_refused=functools.partial(refused.append, True),
        )
        assert (await agent.async_http_request(soap_request())).status_code == 401
        assert bool(refused) is reauth, headers
        # While a rotation is in flight no refusal starts it.
        refused.clear()
        agent.rotating = True
        await agent.async_http_request(soap_request())
        assert refused == []
