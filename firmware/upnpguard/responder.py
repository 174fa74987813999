# M-SEARCH replies, sans-IO: the shell feeds datagrams to `Responder.datagram()` and
# sends what `Responder.due()` returns. Who is answered (own subnet), when (MX delay,
# coalesced per source) and how much (a per-source byte budget against amplification).
from . import limits
from .compat import const, ticks_add, ticks_diff
from .ipv4 import ip_to_int
from .ssdp import matches, parse_msearch, targets

# The first-contact allowance is granted once per source per budget window; a bitmap of
# the host part (low byte: exact on a /24 or smaller) remembers it even when the source's
# table entry was evicted, so churning through addresses earns no fresh allowances.
_GRANT_BITS = const(256)


class _Source:
    """One searcher (an IPv4 address) and its reply budget for the current window."""

    def __init__(self, ip, addr):
        self.ip = ip  # int, for lookups
        self.addr = addr  # dotted quad, where replies go
        self.window = -1  # budget window this state belongs to
        self.received = 0  # bytes of its searches in this window (eviction rank)
        self.credit = 0  # bytes that may still be sent to it
        self.owed = 0  # allowance not yet matched by bytes it sent
        self.granted = False  # got the first-contact allowance in this window
        self.answered = False  # got replies in this window
        self.seen = 0
        self.due = 0
        self.searches = []  # (port, ST) answered together at `due`

    def receive(self, size):
        # Bytes it sent first pay back the allowance; only the rest adds credit, so over a
        # window replies never exceed max(allowance, bytes received).
        paid = min(size, self.owed)
        self.owed -= paid
        self.credit = min(self.credit + size - paid, limits.SSDP_FIRST_CONTACT_BYTES)
        self.received = min(self.received + size, 0x3FFFFFFF)


class Responder:
    """M-SEARCH handling: subnet filter, per-source coalescing, MX delay, and a per-source
    byte budget (docs/security.md: replies to a source never exceed what it sent over a window,
    beyond a first-contact allowance; one source cannot starve others)."""

    def __init__(self, announcer, subnet, clock, random_ms):
        self.announcer = announcer
        self.subnet = subnet
        self.clock = clock
        self.random_ms = random_ms  # random_ms(limit) -> 0..limit-1
        self.sources = []  # _Source, at most SSDP_SOURCES_MAX
        self._window = 0
        self._window_start = clock()
        self._granted = bytearray(_GRANT_BITS // 8)
        # No reply is shorter than one with an empty ST and USN: a search is queued only
        # when its source can pay for at least that much.
        self._reply_floor = len(announcer.response("", ""))
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
        size = len(data)
        self.bytes_in += size
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
        if not matches(search.st, targets(self.announcer.root)):
            return
        now = self.clock()
        self._roll(now)
        src = self._source(source, ip, now)
        if src is None:
            self.dropped_busy += 1
            return
        src.receive(size)
        key = (port, search.st)
        if key in src.searches:
            return  # a repeat of a search still pending: coalesced
        if src.credit < self._reply_floor:
            self.dropped_budget += 1
            return
        if len(src.searches) >= limits.SSDP_MAX_ST_PER_SOURCE:
            self.dropped_busy += 1
            return
        due = ticks_add(now, self.random_ms(search.mx * 1000) if search.mx else 0)
        if not src.searches or ticks_diff(due, src.due) < 0:
            src.due = due
        src.searches.append(key)

    def _roll(self, now):
        if ticks_diff(now, self._window_start) >= limits.SSDP_BUDGET_WINDOW_MS:
            self._window_start = now
            self._window = (self._window + 1) & 0xFFFF
            self._granted = bytearray(_GRANT_BITS // 8)

    def _source(self, ip, addr, now):
        """The table entry of `ip`, admitted (evicting another) if need be; None when every
        entry holds a first answer still pending."""
        src = None
        for entry in self.sources:
            if entry.ip == ip:
                src = entry
                break
        if src is None:
            if len(self.sources) >= limits.SSDP_SOURCES_MAX:
                victim = self._victim(now)
                if self._rank(victim) == 3:
                    # Answer it now instead of after its MX delay, so that the slot frees
                    # up soon; the newcomer's search is dropped (it will search again).
                    victim.due = now
                    return None
                self.dropped_busy += len(victim.searches)
                self.sources.remove(victim)
            src = _Source(ip, addr)
            self.sources.append(src)
        if src.window != self._window:
            src.window = self._window
            src.received = 0
            src.answered = False
            byte, bit = (ip & 0xFF) >> 3, 1 << (ip & 7)
            src.granted = not self._granted[byte] & bit
            if src.granted:
                self._granted[byte] |= bit
                src.credit = src.owed = limits.SSDP_FIRST_CONTACT_BYTES
            else:
                src.credit = src.owed = 0
        src.seen = now
        return src

    def _rank(self, src):
        """Eviction order, lowest first: idle from an older window, idle, waiting for a
        reply it pays for with its own bytes, waiting for its first-contact answer."""
        if not src.searches:
            return 0 if src.window != self._window else 1
        return 3 if src.granted and not src.answered else 2

    def _victim(self, now):
        # Within a rank the heaviest sender goes first (a flooder, not a searcher that sent
        # one datagram), then one whose reply is not due yet, then the longest silent.
        best = None
        best_key = None
        for src in self.sources:
            waiting = 0 if ticks_diff(src.due, now) > 0 else 1
            key = (self._rank(src), -src.received, waiting, -ticks_diff(now, src.seen))
            if best is None or key < best_key:
                best, best_key = src, key
        return best

    def next_due_ms(self):
        """Milliseconds until the earliest pending reply, or None."""
        now = self.clock()
        best = None
        for src in self.sources:
            if src.searches:
                wait = max(0, ticks_diff(src.due, now))
                best = wait if best is None else min(best, wait)
        return best

    def due(self):
        """Replies whose delay has passed, one (ip, port, datagram) at a time: a generator,
        so that at most one reply datagram is on the heap (16 sources x a full answer
        would be ~110 KB)."""
        now = self.clock()
        for src in list(self.sources):
            if not src.searches or ticks_diff(now, src.due) < 0:
                continue
            searches = src.searches
            src.searches = []
            src.answered = True
            sent = []
            for port, st in searches:
                for reply_st, usn in matches(st, targets(self.announcer.root)):
                    if (port, reply_st, usn) in sent:
                        continue
                    sent.append((port, reply_st, usn))
                    datagram = self.announcer.response(reply_st, usn)
                    if len(datagram) > src.credit:
                        self.dropped_budget += 1
                        continue
                    src.credit -= len(datagram)
                    self.bytes_out += len(datagram)
                    yield (src.addr, port, datagram)
