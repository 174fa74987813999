# SSDP (UDA 1.1 1.x plus the UDA 2.0 BOOTID/CONFIGID headers), sans-IO. The shell feeds
# datagrams to `Responder.datagram()` and sends what `Responder.due()` returns.
from . import limits
from .compat import is_digits, ticks_add, ticks_diff
from .gena import ip_to_int

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
    """Builds NOTIFY ssdp:alive / ssdp:byebye / ssdp:update for every target."""

    def __init__(self, root, location, server, boot_id, config_id):
        self.root = root
        self.location = location
        self.server = server
        self.boot_id = boot_id
        self.config_id = config_id

    @property
    def targets(self):
        return list(targets(self.root))

    def iter_targets(self):
        return targets(self.root)

    def alive(self):
        for nt, usn in self.iter_targets():
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
        for nt, usn in self.iter_targets():
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


class _Pending:
    def __init__(self, ip, port, due):
        self.ip = ip
        self.port = port
        self.due = due
        self.sts = []


class Responder:
    """M-SEARCH handling: subnet filter, per-source coalescing, MX delay, reply budget."""

    def __init__(self, announcer, subnet, clock, random_ms):
        self.announcer = announcer
        self.subnet = subnet
        self.clock = clock
        self.random_ms = random_ms  # random_ms(limit) -> 0..limit-1
        self.pending = []
        self._tokens = limits.SSDP_REPLY_BURST_BYTES
        self._refilled = clock()
        # Counters for the log and the amplification benchmark.
        self.bytes_in = 0
        self.bytes_out = 0
        self.dropped_foreign = 0
        self.dropped_invalid = 0
        self.dropped_busy = 0
        self.dropped_budget = 0

    def datagram(self, data, ip, port):
        if ip == self.subnet.ip:
            return  # our own multicast, looped back
        self.bytes_in += len(data)
        source = ip_to_int(ip)
        if source is None or not self.subnet.contains(source):
            self.dropped_foreign += 1
            return
        if not data.startswith(b"M-SEARCH"):
            return  # other devices' NOTIFYs and responses
        search = parse_msearch(data)
        if search is None:
            self.dropped_invalid += 1
            return
        if not matches(search.st, self.announcer.iter_targets()):
            return
        for entry in self.pending:
            if entry.ip == ip and entry.port == port:
                if search.st not in entry.sts:
                    if len(entry.sts) >= limits.SSDP_MAX_ST_PER_SOURCE:
                        self.dropped_busy += 1
                        return
                    entry.sts.append(search.st)
                return
        if len(self.pending) >= limits.SSDP_MAX_PENDING_SOURCES:
            self.dropped_busy += 1
            return
        delay = self.random_ms(search.mx * 1000) if search.mx else 0
        entry = _Pending(ip, port, ticks_add(self.clock(), delay))
        entry.sts.append(search.st)
        self.pending.append(entry)

    def next_due_ms(self):
        """Milliseconds until the earliest pending reply, or None."""
        now = self.clock()
        best = None
        for entry in self.pending:
            wait = max(0, ticks_diff(entry.due, now))
            best = wait if best is None else min(best, wait)
        return best

    def _refill(self, now):
        elapsed = ticks_diff(now, self._refilled)
        if elapsed > 0:
            self._tokens = min(
                limits.SSDP_REPLY_BURST_BYTES,
                self._tokens + elapsed * limits.SSDP_REPLY_BYTES_PER_S // 1000,
            )
            self._refilled = now

    def due(self):
        """Replies whose delay has passed: a list of (ip, port, datagram)."""
        now = self.clock()
        out = []
        for entry in list(self.pending):
            if ticks_diff(now, entry.due) < 0:
                continue
            self.pending.remove(entry)
            self._refill(now)
            sent = []
            for st in entry.sts:
                for reply_st, usn in matches(st, self.announcer.iter_targets()):
                    if (reply_st, usn) in sent:
                        continue
                    sent.append((reply_st, usn))
                    datagram = self.announcer.response(reply_st, usn)
                    if len(datagram) > self._tokens:
                        self.dropped_budget += 1
                        continue
                    self._tokens -= len(datagram)
                    self.bytes_out += len(datagram)
                    out.append((entry.ip, entry.port, datagram))
        return out
