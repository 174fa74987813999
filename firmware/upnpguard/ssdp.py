# SSDP messages (UDA 1.1 1.x plus the UDA 2.0 BOOTID/CONFIGID headers), sans-IO: the
# targets a device announces, M-SEARCH parsing and matching, and the NOTIFY and
# search-response datagrams. Who gets answered, when and how much: responder.py.
from . import limits
from .compat import is_digits

SSDP_GROUP = "239.255.255.250"
SSDP_PORT = 1900
_MULTICAST_HOST = "239.255.255.250:1900"


def targets(root):
    """Every (NT, USN) pair the device announces (UDA 1.1 1.2.2), root first.

    A generator: the ~20 pairs (USNs of ~90 bytes) are rebuilt per use instead of
    holding ~3 KB for the agent's lifetime.
    """
    yield ("upnp:rootdevice", root.udn + "::upnp:rootdevice")
    for device in root.all_devices():
        yield (device.udn, device.udn)
        yield (device.device_type, device.udn + "::" + device.device_type)
        seen = []
        for service in device.services:
            st = service.type.service_type
            if st not in seen:
                seen.append(st)
                yield (st, device.udn + "::" + st)


def _split_type(urn):
    """`urn:domain:device:Name:3` -> ("urn:domain:device:Name", 3), else (urn, None)."""
    head, sep, version = urn.rpartition(":")
    if not sep or not is_digits(version) or len(version) > 4 or urn.count(":") != 4:
        return urn, None
    return head, int(version)


def matches(st, root_targets):
    """(ST to put in the reply, USN) pairs answering a search for `st`."""
    if st == "ssdp:all":
        return list(root_targets)
    if st == "upnp:rootdevice" or st.startswith("uuid:"):
        return [(nt, usn) for nt, usn in root_targets if nt == st]
    base, version = _split_type(st)
    if version is None:
        return []
    out = []
    for nt, usn in root_targets:
        nt_base, nt_version = _split_type(nt)
        # UDA 1.1 1.3.2: a search for a lower version of a type we implement is answered;
        # the reply carries the version that was asked for.
        if nt_version is not None and nt_base == base and version <= nt_version:
            out.append((st, usn))
    return out


class SearchRequest:
    def __init__(self, st, mx, multicast):
        self.st = st
        self.mx = mx
        self.multicast = multicast


def parse_msearch(data):
    """A datagram -> SearchRequest, or None for anything that is not a valid M-SEARCH."""
    if len(data) > limits.SSDP_DATAGRAM_MAX:
        return None
    try:
        text = bytes(data).decode()
    except UnicodeError:
        return None
    lines = text.split("\r\n")
    if lines[0] != "M-SEARCH * HTTP/1.1":
        return None
    headers = {}
    for line in lines[1:]:
        if not line:
            break
        name, sep, value = line.partition(":")
        if not sep:
            return None
        name = name.strip().upper()
        if name in headers:
            return None
        headers[name] = value.strip()
    # UDA 1.1 1.3.2: MAN must be exactly "ssdp:discover" (with the quotes).
    if headers.get("MAN") != '"ssdp:discover"':
        return None
    st = headers.get("ST")
    if not st or len(st) > 200:
        return None
    multicast = headers.get("HOST") == _MULTICAST_HOST
    mx_text = headers.get("MX")
    if multicast:
        if mx_text is None or not is_digits(mx_text) or len(mx_text) > 4:
            return None
        mx = max(limits.MX_MIN, min(limits.MX_MAX, int(mx_text)))
    else:
        mx = 0  # unicast search: answer at once (UDA 1.1 1.3.3)
    return SearchRequest(st, mx, multicast)


class Announcer:
    """Builds the NOTIFY ssdp:alive and ssdp:byebye datagrams for every target, and the
    search responses. No ssdp:update: UDA 1.1 (1.2.4) sends one when BOOTID changes while
    the device keeps running (a new network interface); the agent's BOOTID changes only
    across a reboot, which ssdp:alive announces."""

    def __init__(self, root, location, server, boot_id, config_id):
        self.root = root
        self.location = location
        self.server = server
        self.boot_id = boot_id
        self.config_id = config_id

    def alive(self):
        for nt, usn in targets(self.root):
            yield (
                (
                    "NOTIFY * HTTP/1.1\r\nHOST: {}\r\nCACHE-CONTROL: max-age={}\r\nLOCATION: {}\r\n"
                    "NT: {}\r\nNTS: ssdp:alive\r\nSERVER: {}\r\nUSN: {}\r\nBOOTID.UPNP.ORG: {}\r\n"
                    "CONFIGID.UPNP.ORG: {}\r\n\r\n"
                )
                .format(
                    _MULTICAST_HOST,
                    limits.SSDP_MAX_AGE,
                    self.location,
                    nt,
                    self.server,
                    usn,
                    self.boot_id,
                    self.config_id,
                )
                .encode()
            )

    def byebye(self):
        for nt, usn in targets(self.root):
            yield (
                (
                    "NOTIFY * HTTP/1.1\r\nHOST: {}\r\nNT: {}\r\nNTS: ssdp:byebye\r\nUSN: {}\r\n"
                    "BOOTID.UPNP.ORG: {}\r\nCONFIGID.UPNP.ORG: {}\r\n\r\n"
                )
                .format(_MULTICAST_HOST, nt, usn, self.boot_id, self.config_id)
                .encode()
            )

    def response(self, st, usn):
        return (
            (
                "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age={}\r\nEXT:\r\nLOCATION: {}\r\n"
                "SERVER: {}\r\nST: {}\r\nUSN: {}\r\nBOOTID.UPNP.ORG: {}\r\nCONFIGID.UPNP.ORG: {}\r\n"
                "CONTENT-LENGTH: 0\r\n\r\n"
            )
            .format(
                limits.SSDP_MAX_AGE,
                self.location,
                self.server,
                st,
                usn,
                self.boot_id,
                self.config_id,
            )
            .encode()
        )
