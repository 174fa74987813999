# Sans-IO HTTP/1.1 request parsing and response building with the agent's limits.
# Every limit is checked before the bytes are kept: a parser never holds more than
# its limit plus one read chunk.
from . import limits
from .compat import is_digits

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_TOKEN_FORBIDDEN = ' \t"(),/:;<=>?@[\\]{}'


class HttpError(Exception):
    """A request the agent refuses; `status` is the documented answer."""

    def __init__(self, status, detail=""):
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


class Request:
    def __init__(self, method, target, version, headers, body=b""):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # list of (lower-case name, value)
        self.body = body

    def header(self, name, default=None):
        """The value of a header that may appear once; a repeated one is a 400."""
        found = default
        seen = False
        for key, value in self.headers:
            if key == name:
                if seen:
                    raise HttpError(400, "repeated " + name)
                seen = True
                found = value
        return found


def _is_token(text):
    if not text:
        return False
    for ch in text:
        if ord(ch) <= 32 or ord(ch) >= 127 or ch in _TOKEN_FORBIDDEN:
            return False
    return True


class RequestParser:
    """Feed bytes as they arrive; `feed` returns the complete Request or None.

    Raises HttpError with 400/411/413/431 as soon as a limit is exceeded.
    """

    def __init__(self):
        self._buf = bytearray()
        self._head = None  # Request without body once the header block is complete
        self._body_len = 0

    def wants(self):
        """How many bytes the caller may read next (bounded, never 0 before done)."""
        if self._head is None:
            return limits.HTTP_READ_CHUNK
        return min(limits.HTTP_READ_CHUNK, self._body_len - len(self._buf))

    def feed(self, data):
        self._buf.extend(data)
        if self._head is None:
            self._parse_head()
            if self._head is None:
                return None
        if len(self._buf) < self._body_len:
            return None
        # One request per connection (answered with CONNECTION: close): bytes after the
        # body (a pipelined request) are dropped, whether they came in the body's last
        # read or later, so the answer never depends on how TCP split the stream.
        self._head.body = bytes(self._buf[: self._body_len])
        self._buf = bytearray()
        return self._head

    def _parse_head(self):
        buf = self._buf
        line_end = buf.find(b"\r\n")
        if line_end < 0:
            if len(buf) > limits.HTTP_REQUEST_LINE_MAX:
                raise HttpError(400, "request line too long")
            return
        if line_end > limits.HTTP_REQUEST_LINE_MAX:
            raise HttpError(400, "request line too long")
        end = buf.find(b"\r\n\r\n", line_end)
        if end < 0:
            if len(buf) - line_end - 2 > limits.HTTP_HEADER_BLOCK_MAX:
                raise HttpError(431, "header block too large")
            # Count headers early so a flood of tiny lines is refused before 2 KB.
            if buf.count(b"\r\n") - 1 > limits.HTTP_HEADERS_MAX:
                raise HttpError(431, "too many headers")
            return
        if end - line_end > limits.HTTP_HEADER_BLOCK_MAX:
            raise HttpError(431, "header block too large")
        try:
            head = bytes(buf[:end]).decode()
        except UnicodeError:
            raise HttpError(400, "not UTF-8")
        rest = buf[end + 4 :]
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise HttpError(400, "bad request line")
        method, target, version = parts
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise HttpError(400, "bad version")
        if not _is_token(method):
            raise HttpError(400, "bad method")
        if not (target.startswith("/") or target == "*"):
            raise HttpError(400, "bad target")
        header_lines = lines[1:]
        if len(header_lines) > limits.HTTP_HEADERS_MAX:
            raise HttpError(431, "too many headers")
        headers = []
        for line in header_lines:
            name, sep, value = line.partition(":")
            # RFC 9112 5.1: no whitespace between name and colon; no obs-fold.
            if not sep or not _is_token(name):
                raise HttpError(400, "bad header line")
            headers.append((name.lower(), value.strip(" \t")))
        request = Request(method, target, version, headers)
        if any(name == "transfer-encoding" for name, _ in headers):
            # Chunked bodies are not worth their code on a microcontroller.
            raise HttpError(411, "transfer-encoding")
        length = request.header("content-length")
        if length is None:
            if method in ("POST", "NOTIFY"):
                raise HttpError(411, "content-length required")
            self._body_len = 0
        else:
            if not is_digits(length) or len(length) > 9:
                raise HttpError(400, "bad content-length")
            self._body_len = int(length)
            if self._body_len > limits.HTTP_BODY_MAX:
                raise HttpError(413, "body too large")
        self._head = request
        self._buf = bytearray(rest)


def build_head(status, headers=(), content_length=0, server=None):
    """Status line and headers of a response; the body is written separately."""
    out = ["HTTP/1.1 {} {}\r\n".format(status, REASONS.get(status, "Error"))]
    if server:
        out.append("SERVER: " + server + "\r\n")
    for name, value in headers:
        out.append(name + ": " + value + "\r\n")
    out.append("CONTENT-LENGTH: {}\r\nCONNECTION: close\r\n\r\n".format(content_length))
    return "".join(out).encode()


class Response:
    """What the app answers: status, headers, a body, and an `after` callback.

    `body` is a str/bytes, a list of chunks, or a zero-argument callable returning an
    iterable of chunks, so a large document never sits in RAM whole. `length`, when the
    caller knows it, spares a walk over the chunks just to count them.
    """

    def __init__(self, status, headers=None, body=(), after=None, length=None):
        self.status = status
        self.headers = headers or []
        self.body = body
        # A callback for the shell after the response is written (GENA initial event).
        self.after = after
        self.length = length

    def content_length(self):
        if self.length is None:
            length = 0
            for chunk in self.chunks():
                length += len(chunk)
            self.length = length
        return self.length

    def chunks(self):
        body = self.body
        if callable(body):
            body = body()
        elif isinstance(body, (str, bytes)):
            body = (body,)
        for chunk in body:
            yield chunk.encode() if isinstance(chunk, str) else chunk
