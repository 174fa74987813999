# HTTP request parsing limits (docs/firmware.md, "Limits"): each one exceeded by one byte or
# one header gets its documented status, and a normal request still parses afterwards.
from upnpguard import http, limits

from corehelpers import HOST, parse, raises


def _status(raw):
    return raises(http.HttpError, parse, raw).status


def _normal():
    req = parse(b"GET /desc.xml HTTP/1.1\r\nHOST: " + HOST.encode() + b"\r\n\r\n")
    assert req.method == "GET"
    assert req.target == "/desc.xml"
    assert req.header("host") == HOST


def test_parses_request_with_body_in_pieces():
    parser = http.RequestParser()
    raw = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nSOAPACTION: a#b\r\n\r\nhello"
    result = None
    for i in range(len(raw)):
        result = parser.feed(raw[i : i + 1])
        if i < len(raw) - 1:
            assert result is None
    assert result.body == b"hello"
    assert result.header("soapaction") == "a#b"


def test_request_line_limit_is_400():
    raw = b"GET /" + b"a" * limits.HTTP_REQUEST_LINE_MAX + b" HTTP/1.1\r\n\r\n"
    assert _status(raw) == 400
    # Without a line end at all, refused as soon as the limit is passed.
    parser = http.RequestParser()
    err = raises(http.HttpError, parser.feed, b"G" * (limits.HTTP_REQUEST_LINE_MAX + 1))
    assert err.status == 400
    _normal()


def test_header_count_limit_is_431():
    ok = b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * limits.HTTP_HEADERS_MAX + b"\r\n"
    assert len(parse(ok).headers) == limits.HTTP_HEADERS_MAX
    raw = b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * (limits.HTTP_HEADERS_MAX + 1) + b"\r\n"
    assert _status(raw) == 431
    # Refused before the block is complete too.
    parser = http.RequestParser()
    err = raises(
        http.HttpError,
        parser.feed,
        b"GET / HTTP/1.1\r\n" + b"X:1\r\n" * (limits.HTTP_HEADERS_MAX + 2),
    )
    assert err.status == 431
    _normal()


def test_header_block_limit_is_431():
    big = b"X-Big: " + b"b" * (limits.HTTP_HEADER_BLOCK_MAX) + b"\r\n"
    assert _status(b"GET / HTTP/1.1\r\n" + big + b"\r\n") == 431
    parser = http.RequestParser()
    err = raises(http.HttpError, parser.feed, b"GET / HTTP/1.1\r\n" + big)
    assert err.status == 431
    _normal()


def test_body_limit_is_413_before_reading_it():
    raw = b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (limits.HTTP_BODY_MAX + 1)
    assert _status(raw) == 413
    _normal()


def test_post_without_length_is_411():
    assert _status(b"POST / HTTP/1.1\r\n\r\n") == 411
    assert _status(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 411
    _normal()


def test_malformed_requests_are_400():
    for raw in (
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET /  HTTP/1.1\r\n\r\n",
        b"GET http://evil/ HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad name : x\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        b"G\xffT / HTTP/1.1\r\n\r\n",
    ):
        try:
            req = parse(raw)
            req.header("content-length")
        except http.HttpError as err:
            assert err.status == 400, (raw, err.status)
        else:
            raise AssertionError(raw)
    _normal()


def test_bytes_after_the_body_are_dropped_however_they_arrive():
    # One request per connection: a pipelined second request is never parsed, and the
    # answer does not depend on whether it came in the same read as the body.
    whole = parse(b"POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /b HTTP/1.1\r\n\r\n")
    assert (whole.target, whole.body) == ("/a", b"ok")
    parser = http.RequestParser()
    assert parser.feed(b"POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n") is None
    assert parser.wants() == 2
    split = parser.feed(b"ok")
    assert (split.target, split.body) == ("/a", b"ok")
    assert parse(b"GET / HTTP/1.1\r\n\r\nextra").body == b""


def test_wants_is_bounded():
    parser = http.RequestParser()
    assert 0 < parser.wants() <= limits.HTTP_READ_CHUNK
    assert parser.feed(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n") is None
    assert parser.wants() == 3


def test_response_head():
    head = http.build_head(200, [("EXT", "")], 12, server="S/1 UPnP/1.1 G/1").decode()
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert "CONTENT-LENGTH: 12\r\n" in head
    assert "EXT: \r\n" in head
    assert head.endswith("\r\n\r\n")


def test_numbers_are_ascii_digits_only():
    # Found by fuzz/fuzz_agent.py: CPython's isdigit() accepts "²", which int() refuses.
    assert _status(b"POST /x HTTP/1.1\r\nHOST: h\r\nCONTENT-LENGTH: 1\xc2\xb2\r\n\r\n") == 400
    assert _status(b"POST /x HTTP/1.1\r\nHOST: h\r\nCONTENT-LENGTH: \xd9\xa3\r\n\r\n") == 400
    _normal()
