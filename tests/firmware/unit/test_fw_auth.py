# Paired mode's authenticators (upnpguard/auth.py) against the shared test vectors
# (tests/vectors/auth_v1.json, computed with CPython's hmac) and RFC 4231; the replay
# window; every refusal reason. Runs on CPython and under micropython.
import json

from upnpguard import auth

try:
    _HERE = __file__.rsplit("/", 1)[0]
except NameError:  # pragma: no cover
    _HERE = "tests/firmware/unit"
VECTORS_PATH = _HERE + "/../../vectors/auth_v1.json"


def _vectors():
    with open(VECTORS_PATH) as f:
        return json.load(f)


def _key(vectors):
    return auth.Key(auth.parse_key(vectors["key_base64"]))


def _unhex(text):
    return bytes(int(text[i : i + 2], 16) for i in range(0, len(text), 2))


def test_hmac_matches_rfc_4231():
    # Case 2 (a key shorter than the block) and case 6 (longer: hashed first).
    case2 = auth.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert case2 == _unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    case6 = auth.hmac_sha256(
        b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"
    )
    assert case6 == _unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_hmac_matches_cpython_hmac():
    try:
        import hashlib
        import hmac
    except ImportError:  # micropython: the vectors (computed with hmac) stand in for it
        return
    for size in (0, 1, 32, 64, 65, 200):
        secret = bytes(range(size % 256)) * (size // 256 + 1)
        secret = secret[:size]
        message = b"m" * size
        expected = hmac.new(secret, message, hashlib.sha256).digest()
        assert auth.hmac_sha256(secret, message) == expected


def test_request_vectors():
    vectors = _vectors()
    key = _key(vectors)
    for case in vectors["requests"]:
        body = case["body"].encode()
        message = auth.request_message(
            case["method"], case["path"], case["headers"], case["boot_id"], case["counter"], body
        )
        assert message == case["canonical"].encode(), message
        header = auth.request_header(
            key,
            case["method"],
            case["path"],
            case["headers"],
            case["boot_id"],
            case["counter"],
            body,
        )
        assert header == case["header"], header


def test_event_vectors():
    vectors = _vectors()
    key = _key(vectors)
    for case in vectors["events"]:
        body = case["body"].encode()
        message = auth.event_message(case["sid"], case["seq"], case["boot_id"], body)
        assert message == case["canonical"].encode()
        assert (
            auth.event_header(key, case["sid"], case["seq"], case["boot_id"], body)
            == case["header"]
        )


def test_rotation_vector():
    vectors = _vectors()
    key = _key(vectors)
    case = vectors["rotations"][0]
    new = auth.parse_key(case["new_key_base64"])
    sealed = key.wrap(new, case["boot_id"], case["counter"])
    assert sealed == _unhex(case["sealed_hex"])
    assert key.unwrap(sealed, case["boot_id"], case["counter"]) == new
    # Bound to its request: another counter unwraps to something else.
    assert key.unwrap(sealed, case["boot_id"], case["counter"] + 1) != new


def test_keys_are_32_bytes_of_base64():
    vectors = _vectors()
    secret = auth.parse_key(vectors["key_base64"])
    assert auth.format_key(secret) == vectors["key_base64"]
    for bad in ("", "AQID", "not base64 at all!", vectors["key_base64"][:-4]):
        try:
            auth.parse_key(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    try:
        auth.Key(b"short")
    except ValueError:
        pass
    else:
        raise AssertionError("short key accepted")


def _request(key, counter, boot_id=7, body=b"<x/>", method="POST", path="/1/a/ctl/S"):
    headers = {"SOAPACTION": '"urn:x#SetTarget"'}
    headers[auth.HEADER] = auth.request_header(key, method, path, headers, boot_id, counter, body)
    return method, path, headers, body


def test_verifier_accepts_once_and_refuses_replays():
    key = _key(_vectors())
    verifier = auth.Verifier(key, 7)
    request = _request(key, 1000)
    assert verifier.check(*request) is None
    assert verifier.check(*request) == auth.REPLAYED
    assert verifier.check(*_request(key, 999 - auth.REPLAY_WINDOW)) == auth.REPLAYED
    assert verifier.check(*_request(key, 1001)) is None


def test_verifier_takes_counters_out_of_order_within_the_window():
    key = _key(_vectors())
    verifier = auth.Verifier(key, 7)
    assert verifier.check(*_request(key, 5000)) is None
    assert verifier.check(*_request(key, 4990)) is None  # overtaken by 5000
    assert verifier.check(*_request(key, 4990)) == auth.REPLAYED
    assert verifier.check(*_request(key, 5000 - auth.REPLAY_WINDOW + 1)) is None
    assert verifier.check(*_request(key, 5000 - auth.REPLAY_WINDOW)) == auth.REPLAYED
    # A jump forward keeps what was seen within the window.
    assert verifier.check(*_request(key, 5003)) is None
    assert verifier.check(*_request(key, 4990)) == auth.REPLAYED
    assert verifier.check(*_request(key, 5001)) is None
    assert verifier.check(*_request(key, 5000)) == auth.REPLAYED
    # A jump past the window forgets it all, but nothing at or below the old highest
    # minus the window comes back.
    assert verifier.check(*_request(key, 9000)) is None
    assert verifier.check(*_request(key, 5003)) == auth.REPLAYED
    assert verifier.highest == 9000


def test_verifier_refusals():
    vectors = _vectors()
    key = _key(vectors)
    other = auth.Key(bytes(32))
    verifier = auth.Verifier(key, 7)
    method, path, headers, body = _request(key, 10)
    assert verifier.check(method, path, {"SOAPACTION": headers["SOAPACTION"]}, body) == (
        auth.MISSING
    )
    # Tampered body, path, SOAPACTION, method: the MAC no longer matches.
    assert verifier.check(method, path, headers, body + b" ") == auth.BAD_MAC
    assert verifier.check(method, path + "x", headers, body) == auth.BAD_MAC
    assert verifier.check("SUBSCRIBE", path, headers, body) == auth.BAD_MAC
    changed = dict(headers)
    changed["SOAPACTION"] = '"urn:x#GetStatus"'
    assert verifier.check(method, path, changed, body) == auth.BAD_MAC
    changed = dict(headers)
    changed["CALLBACK"] = "<http://10.0.0.66/>"  # CallStranger: a callback added on the way
    assert verifier.check(method, path, changed, body) == auth.BAD_MAC
    assert verifier.check(*_request(other, 11)) == auth.BAD_MAC
    assert verifier.check(*_request(key, 12, boot_id=6)) == auth.WRONG_BOOT
    for value in (
        "",
        "1 7 12",
        "2 7 12 " + "0" * 64,
        "1 x 12 " + "0" * 64,
        "1 7 -12 " + "0" * 64,
        "1 7 12345678901234567 " + "0" * 64,
        "1 7 12 " + "zz" * 32,
        "1 7 12 " + "0" * 63,
    ):
        bad = dict(headers)
        bad[auth.HEADER] = value
        assert verifier.check(method, path, bad, body) == auth.MALFORMED, value
    # None of the refusals used up a counter.
    assert verifier.check(method, path, headers, body) is None


def test_equal_compares_every_byte():
    assert auth.equal(b"\x00" * 32, b"\x00" * 32)
    assert not auth.equal(b"\x00" * 32, b"\x00" * 31 + b"\x01")
    assert not auth.equal(b"\x01" + b"\x00" * 31, b"\x00" * 32)
    assert not auth.equal(b"\x00" * 32, b"\x00" * 31)
