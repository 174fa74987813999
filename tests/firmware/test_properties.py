"""Property tests of the agent's sans-IO parsers (hypothesis, CPython): each one parses or
raises its own protocol error, nothing else, for any input; the HTTP parser gives the same
answer whether a request arrives whole or split at any point.

The parsers are the firmware's own modules (firmware/upnpguard), the same code that runs
on the boards. fuzz/fuzz_agent.py mutates valid messages at random on every interpreter;
these tests state the contracts and let hypothesis shrink a counterexample.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware"))

from upnpguard import auth, gena, http, limits, servicetypes, soap, ssdp, xmlutil
from upnpguard.ipv4 import Subnet

SETTINGS = settings(
    max_examples=int(os.environ.get("UPNP_GUARD_EXAMPLES") or 150),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
SWITCH = servicetypes.SWITCH_POWER
SWITCH_TYPE = SWITCH.service_type
SOAPACTION = f'"{SWITCH_TYPE}#SetTarget"'

VALID_BODY = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
    ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
    f'<u:SetTarget xmlns:u="{SWITCH_TYPE}"><newTargetValue>1</newTargetValue></u:SetTarget>'
    "</s:Body></s:Envelope>"
).encode()
VALID_REQUEST = (
    b"POST /1/abc/ctl/SwitchPower HTTP/1.1\r\nHOST: 10.0.0.2:49152\r\n"
    b'CONTENT-TYPE: text/xml; charset="utf-8"\r\n'
    b"SOAPACTION: " + SOAPACTION.encode() + b"\r\n"
    b"CONTENT-LENGTH: " + str(len(VALID_BODY)).encode() + b"\r\n\r\n" + VALID_BODY
)
VALID_MSEARCH = (
    b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
    b"MX: 2\r\nST: ssdp:all\r\n\r\n"
)


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """A valid message with a few bytes replaced, inserted or cut (closer to what a
    parser must refuse carefully than uniform noise)."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["replace", "insert", "cut"]))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if how == "replace" and where < len(data):
            data[where : where + len(chunk)] = chunk
        elif how == "insert":
            data[where:where] = chunk
        else:
            del data[where : where + len(chunk)]
    return bytes(data)


def messages(valid: bytes, noise: int = 700) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=noise), mutated(valid))


def read_request(data: bytes, cut: int | None = None) -> tuple[Any, ...]:
    """What the agent's HTTP server makes of `data`: it reads at most `wants()` bytes at
    a time; `cut` splits the stream there too (a TCP segment boundary)."""
    parser = http.RequestParser()
    pos = 0
    try:
        while pos < len(data):
            end = len(data) if cut is None or cut <= pos else cut
            take = min(parser.wants(), end - pos)
            request = parser.feed(data[pos : pos + take])
            pos += take
            if request is not None:
                headers = {name: request.header(name) for name in ("host", "content-length")}
                return ("request", request.method, request.target, headers, request.body)
    except http.HttpError as err:
        return ("refused", err.status)
    return ("incomplete",)


@SETTINGS
@given(messages(VALID_REQUEST, noise=900))
@example(VALID_REQUEST)
@example(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 40 + b"\r\n")
@example(b"POST / HTTP/1.1\r\nCONTENT-LENGTH: 99999999999\r\n\r\n")
def test_http_parser_same_answer_whole_or_split_anywhere(data: bytes) -> None:
    whole = read_request(data)
    assert whole[0] != "refused" or whole[1] in {400, 411, 413, 431}, whole
    for cut in range(1, len(data)):
        assert read_request(data, cut) == whole, cut
    if whole[0] == "request":
        assert len(whole[4]) <= limits.HTTP_BODY_MAX


def test_the_valid_request_parses() -> None:
    # The property above holds trivially if everything were refused: not so.
    result = read_request(VALID_REQUEST)
    assert result[0] == "request"
    assert result[4] == VALID_BODY


@SETTINGS
@given(messages(VALID_MSEARCH, noise=1600))
@example(VALID_MSEARCH)
def test_msearch_parses_or_is_dropped(data: bytes) -> None:
    search = ssdp.parse_msearch(data)
    if search is not None:
        assert isinstance(search.st, str)
        assert 0 < len(search.st) <= 200
        assert search.mx == 0 or limits.MX_MIN <= search.mx <= limits.MX_MAX
        assert len(data) <= limits.SSDP_DATAGRAM_MAX


def test_the_valid_msearch_parses() -> None:
    search = ssdp.parse_msearch(VALID_MSEARCH)
    assert search is not None
    assert (search.st, search.multicast) == ("ssdp:all", True)


@SETTINGS
@given(messages(VALID_BODY, noise=1200), st.sampled_from([SOAPACTION, "", '"x#y"', "#", None]))
@example(VALID_BODY, SOAPACTION)
def test_soap_parses_or_raises_a_soap_or_upnp_error(body: bytes, soapaction: str | None) -> None:
    try:
        action, args = soap.parse_request(body, SWITCH, soapaction)
    except soap.SoapError, servicetypes.UpnpError:
        return
    assert action.name == "SetTarget"
    assert set(args) == {"newTargetValue"}
    assert args["newTargetValue"] in (True, False, 0, 1)


def test_the_valid_soap_body_parses() -> None:
    action, args = soap.parse_request(VALID_BODY, SWITCH, SOAPACTION)
    assert action.name == "SetTarget"
    assert args["newTargetValue"] == 1  # (True == 1: the boolean decodes either way)


@SETTINGS
@given(st.text(max_size=600))
@example("<a " + " ".join(f'x{i}="1"' for i in range(40)) + "/>")
@example("<a>" * 100 + "</a>" * 100)
@example('<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
def test_xml_parses_or_raises_xml_error(text: str) -> None:
    try:
        xmlutil.parse(text)
    except xmlutil.XmlError:
        return


SUBNET = Subnet("10.0.0.2", 24)
REQUESTER = "10.0.0.9"


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda host, port, path: f"<http://{host}:{port}{path}>",
            st.sampled_from([REQUESTER, "10.0.0.2", "10.0.1.9", "x", "10.0.0.999"]),
            st.integers(-5, 70000),
            st.text(max_size=20),
        ),
    )
)
@example(f"<http://{REQUESTER}:8123/notify>")
def test_callback_parses_or_is_rejected(header: str) -> None:
    try:
        urls = gena.parse_callbacks(header, SUBNET, REQUESTER)
    except gena.CallbackRejected:
        return
    assert 0 < len(urls) <= limits.GENA_CALLBACK_URLS_MAX
    for host, port, path in urls:
        assert host == REQUESTER  # never another host, never the agent itself
        assert 0 < port < 65536
        assert path.startswith("/")
        assert all(32 <= ord(ch) <= 126 for ch in path)


@SETTINGS
@given(
    st.one_of(st.none(), st.text(max_size=40), st.from_regex(r"Second-\d{1,25}", fullmatch=True))
)
def test_timeout_is_always_within_bounds(header: str | None) -> None:
    seconds = gena.parse_timeout(header)
    assert limits.GENA_TIMEOUT_MIN_S <= seconds <= limits.GENA_TIMEOUT_MAX_S


KEY = auth.Key(bytes(range(32)))
BOOT_ID = 7


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=120),
        st.builds(
            lambda boot, counter, mac: f"1 {boot} {counter} {mac}",
            st.text(max_size=12),
            st.text(max_size=25),
            st.text(alphabet="0123456789abcdefABCDEFxz", min_size=60, max_size=68),
        ),
    ),
    st.binary(max_size=64),
)
def test_authenticator_is_verified_or_refused_with_a_reason(value: str, body: bytes) -> None:
    parsed = auth.parse_header(value)
    if parsed is not None:
        boot_id, counter, mac = parsed
        assert boot_id >= 0
        assert counter >= 0
        assert len(mac) == 32
    verifier = auth.Verifier(KEY, BOOT_ID)
    reason = verifier.check("POST", "/ctl", {auth.HEADER: value}, body)
    # Nothing random is authentic: only a refusal with a known reason.
    assert reason in {auth.MALFORMED, auth.BAD_MAC, auth.WRONG_BOOT, auth.REPLAYED}


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 10**12), st.binary(max_size=64))
def test_a_signed_request_verifies_once(boot_id: int, counter: int, body: bytes) -> None:
    headers = {"SOAPACTION": SOAPACTION}
    value = auth.request_header(KEY, "POST", "/ctl", headers, boot_id, counter, body)
    verifier = auth.Verifier(KEY, boot_id)
    signed = {**headers, auth.HEADER: value}
    assert verifier.check("POST", "/ctl", signed, body) is None
    assert verifier.check("POST", "/ctl", signed, body) == auth.REPLAYED
    assert verifier.check("POST", "/ctl", signed, body + b"x") == auth.BAD_MAC
