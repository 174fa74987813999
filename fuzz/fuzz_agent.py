# Mutation fuzzer for the agent's sans-IO core. The same file runs under CPython and under
# the MicroPython unix port (DESIGN: "fuzzed on CPython and on MicroPython alike"):
#
#   python fuzz/fuzz_agent.py [iterations] [seed]
#   micropython fuzz/fuzz_agent.py [iterations] [seed]
#
# Inputs: valid messages (HTTP requests of every kind the agent serves, M-SEARCHes, GENA
# CALLBACK headers, SOAP bodies) mutated a few bytes at a time. Every input must get a
# documented answer: an HTTP status from the documented set, a SOAP fault, a dropped
# datagram, a rejected callback. Any other exception is a crash, printed with its input;
# every 50 inputs a normal request must still be answered 200. Exit status 1 on a crash.
import random
import sys

try:
    _here = __file__.rpartition("/")[0] or "."
except NameError:
    _here = "fuzz"
_root = _here + "/.."
sys.path.insert(0, _root + "/firmware")
sys.path.insert(0, _root + "/tests/firmware/unit")
sys.path.insert(0, _here)

from corehelpers import CLIENT_IP, HOST, make_agent, service  # noqa: E402
from upnpguard import gena, http, ssdp, xmlutil  # noqa: E402
from upnpguard.servicetypes import UpnpError  # noqa: E402
from upnpguard.soap import SoapError, parse_request  # noqa: E402

from mutate import mutate  # noqa: E402

# What the agent may answer (docs/protocol.md, docs/security.md).
HTTP_STATUSES = (200, 400, 404, 405, 408, 411, 412, 413, 431, 500, 503)
PARSER_STATUSES = (400, 411, 413, 431)


def text(data):
    """Bytes as a str both interpreters agree on (no codec: MicroPython has no latin-1)."""
    return "".join(chr(b) for b in data)


def http_seeds(agent):
    relay = service(agent, "relay", "SwitchPower")
    lamp = service(agent, "lamp", "Dimming")
    body = (
        b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        b' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        b'<u:SetLoadLevelTarget xmlns:u="urn:schemas-upnp-org:service:Dimming:1">'
        b"<newLoadlevelTarget>42</newLoadlevelTarget></u:SetLoadLevelTarget></s:Body>"
        b"</s:Envelope>"
    )
    soap = (
        "POST "
        + lamp.control_path
        + " HTTP/1.1\r\nHOST: "
        + HOST
        + '\r\nCONTENT-TYPE: text/xml; charset="utf-8"\r\n'
        + 'SOAPACTION: "urn:schemas-upnp-org:service:Dimming:1#SetLoadLevelTarget"\r\n'
        + "CONTENT-LENGTH: "
        + str(len(body))
        + "\r\n\r\n"
    ).encode() + body
    head = "HTTP/1.1\r\nHOST: " + HOST + "\r\n"
    return [
        soap,
        ("GET /desc.xml " + head + "\r\n").encode(),
        ("GET " + relay.scpd_path + " " + head + "\r\n").encode(),
        ("HEAD /desc.xml " + head + "\r\n").encode(),
        (
            "SUBSCRIBE "
            + relay.event_path
            + " "
            + head
            + "CALLBACK: <http://"
            + CLIENT_IP
            + ":8123/notify>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n"
        ).encode(),
        ("SUBSCRIBE " + relay.event_path + " " + head + "SID: uuid:x\r\n\r\n").encode(),
        ("UNSUBSCRIBE " + relay.event_path + " " + head + "SID: uuid:x\r\n\r\n").encode(),
    ]


SSDP_SEEDS = [
    b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
    b"MX: 2\r\nST: ssdp:all\r\n\r\n",
    b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
    b"MX: 1\r\nST: urn:schemas-upnp-org:device:DimmableLight:1\r\n\r\n",
    b'M-SEARCH * HTTP/1.1\r\nHOST: 10.1.2.20:1900\r\nMAN: "ssdp:discover"\r\n'
    b"ST: urn:schemas-upnp-org:service:SwitchPower:1\r\n\r\n",
]
CALLBACK_SEEDS = [
    b"<http://10.1.2.30:8123/notify>",
    b"<http://10.1.2.30/a><http://10.1.2.30:80/b>",
]


class Crash(Exception):
    pass


def fuzz_http(agent, data, rng):
    parser = http.RequestParser()
    request = None
    pos = 0
    try:
        while pos < len(data) and request is None:
            step = 1 + rng.getrandbits(9)
            request = parser.feed(data[pos : pos + step])
            pos += step
    except http.HttpError as err:
        if err.status not in PARSER_STATUSES:
            raise Crash(f"parser answered {err.status}")
        return
    if request is None:
        return  # incomplete: the shell's read deadline answers 408
    response = agent.handle_request(request, CLIENT_IP)
    if response.status not in HTTP_STATUSES:
        raise Crash(f"agent answered {response.status}")
    length = response.content_length()
    body = b"".join(response.chunks())
    if length != len(body) and not (request.method == "HEAD" and not body):
        raise Crash("Content-Length does not match the body")
    if response.after is not None:
        response.after()


def fuzz_ssdp(agent, data, rng):
    search = ssdp.parse_msearch(data)
    if search is not None and not 0 <= search.mx <= 5:
        raise Crash("MX outside 0..5")
    agent.handle_datagram(data, CLIENT_IP, 1900 + rng.getrandbits(4))


def fuzz_callback(agent, data, rng):
    try:
        urls = gena.parse_callbacks(text(data), agent.subnet, CLIENT_IP)
    except gena.CallbackRejected:
        return
    if not 0 < len(urls) <= 4:
        raise Crash("callback count")
    for ip, port, path in urls:
        if ip != CLIENT_IP or not 0 < port < 65536 or not path.startswith("/"):
            raise Crash(f"callback accepted: {ip} {port} {path}")


def fuzz_soap(agent, data, rng):
    lamp = service(agent, "lamp", "Dimming")
    try:
        parse_request(
            data, lamp.type, '"urn:schemas-upnp-org:service:Dimming:1#SetLoadLevelTarget"'
        )
    except (SoapError, UpnpError):
        return
    except xmlutil.XmlError:
        raise Crash("XmlError escaped parse_request")


def still_serves(agent):
    response = agent.handle_request(
        http_parse(("GET /desc.xml HTTP/1.1\r\nHOST: " + HOST + "\r\n\r\n").encode()), CLIENT_IP
    )
    return response.status == 200


def http_parse(raw):
    return http.RequestParser().feed(raw)


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed) if hasattr(random, "Random") else random
    if rng is random:
        random.seed(seed)
    agent = make_agent()
    soap_bodies = [s[s.find(b"\r\n\r\n") + 4 :] for s in http_seeds(agent)[:1]]
    targets = (
        ("http", fuzz_http, http_seeds(agent)),
        ("ssdp", fuzz_ssdp, SSDP_SEEDS),
        ("callback", fuzz_callback, CALLBACK_SEEDS),
        ("soap", fuzz_soap, soap_bodies),
    )
    crashes = 0
    runs = 0
    for name, target, seeds in targets:
        for index in range(iterations):
            data = mutate(rng, seeds[index % len(seeds)], seeds)
            runs += 1
            try:
                target(agent, data, rng)
            except Exception as err:  # every other exception is a finding
                crashes += 1
                print("CRASH", name, type(err).__name__, err, repr(data)[:400])
                if crashes >= 10:
                    break
            if index % 50 == 0 and not still_serves(agent):
                crashes += 1
                print("CRASH", name, "a normal request is no longer served")
        print("target", name, "iterations", iterations)
    print("runs", runs, "crashes", crashes)
    if crashes:
        sys.exit(1)


if __name__ == "__main__":
    main()
