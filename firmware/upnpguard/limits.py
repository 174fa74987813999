# Every limit of the agent, in one place (the table in docs/firmware.md, "Limits"; the
# update receiver's are in ota_receive.py, below says why). Public
# names, so that the unit tests can exceed each by exactly one and read them from here.
# What const() does for them on MicroPython: little. The compiler inlines a const value
# only where the name is used inside this module (nowhere), and drops the name from the
# module's globals only when it starts with an underscore; so each name below is an entry
# in this module's globals dict on the heap, and other modules read it with an attribute
# lookup at run time (which also lets a test lower one, as run_shell_esp32.py does).
from .compat import const

# --- SSDP ---------------------------------------------------------------------------
SSDP_DATAGRAM_MAX = const(1500)  # one Ethernet MTU; larger reads are truncated -> dropped
SSDP_MAX_AGE = const(1800)  # UDA 1.1 minimum for CACHE-CONTROL max-age
# Re-announce well before max-age runs out (UDA: "less than half" is advised).
SSDP_REANNOUNCE_MS = const(600_000)
SSDP_ALIVE_REPEAT = const(2)  # UDA 1.1 advises sending each announcement more than once
SSDP_ALIVE_SPACING_MS = const(200)
MX_MIN = const(1)
MX_MAX = const(5)
# M-SEARCH replies: a byte budget per source (IPv4 address). Over a budget window, replies
# to a source never exceed max(first-contact allowance, bytes of its searches), so a
# single search gets a full answer and a flood gets back less than it sent (the goal:
# amplification <= 1.0 after a small first-contact allowance). The allowance is one full
# ssdp:all answer of the reference board (21 replies, 6 967 B) plus about three replies;
# a board with more targets answers ssdp:all partly on first contact (root device first).
SSDP_FIRST_CONTACT_BYTES = const(8000)
# Allowance once per source per window; earned credit is capped at the allowance.
SSDP_BUDGET_WINDOW_MS = const(60_000)
# Sources tracked at once (~0.2 KB each with their pending searches). When full, a new
# source evicts an idle entry, else the heaviest sender among those paying their own way;
# a first answer still pending is never evicted (the newcomer is dropped, that answer
# sent at once to free the slot). Spoofing many addresses cannot grow memory.
SSDP_SOURCES_MAX = const(16)
SSDP_MAX_ST_PER_SOURCE = const(4)  # distinct (port, ST) merged into one source's pending reply
# Datagrams read per turn of the receive loop before it yields to the other tasks: a
# flood keeps the socket readable forever. Eight ssdp:all searches take a few ms on a board.
SSDP_RECEIVE_BATCH = const(8)
SSDP_MULTICAST_TTL = const(2)  # UDA 1.1 default TTL for SSDP multicast

# --- HTTP ---------------------------------------------------------------------------
HTTP_REQUEST_LINE_MAX = const(512)  # -> 400
HTTP_HEADERS_MAX = const(24)  # -> 431
HTTP_HEADER_BLOCK_MAX = const(2048)  # -> 431
HTTP_BODY_MAX = const(4096)  # -> 413
HTTP_READ_CHUNK = const(512)
HTTP_READ_DEADLINE_MS = const(5000)  # whole request; slowloris -> 408
# An ESP32 has ~10 lwIP sockets in all: SSDP takes one, NOTIFY clients up to four.
HTTP_MAX_CONNECTIONS = const(4)  # -> 503
# One host may hold half of them (a control point fetches a description while it sends a
# SUBSCRIBE); a host that opens more loses its oldest idle connection, or gets 503 if
# none of its connections is idle: a slowloris from one host leaves two connections to
# everybody else.
HTTP_MAX_CONNECTIONS_PER_PEER = const(2)
# A connection still waiting for (the rest of) its request with no byte for this long is
# idle: it may be closed for a newer connection of the same peer. A real client sends
# its request at once; a dribbling attacker is idle between its bytes.
HTTP_IDLE_MS = const(1000)

# --- SOAP ---------------------------------------------------------------------------
SOAP_MAX_ELEMENTS = const(32)  # an envelope with more elements is not one of our actions
SOAP_MAX_DEPTH = const(8)
# Attributes in all and the length of one (`name="value"`): a SOAP call needs three or
# four (xmlns:s, s:encodingStyle, xmlns:u); a namespace URI is < 100 bytes. Unbounded,
# 480 attributes in 3.8 KB of body held 39.5 KB of heap.
SOAP_MAX_ATTRIBUTES = const(16)  # -> 400
SOAP_ATTRIBUTE_MAX = const(256)  # -> 400

# --- GENA ---------------------------------------------------------------------------
GENA_CALLBACK_HEADER_MAX = const(256)  # -> 412
GENA_CALLBACK_URLS_MAX = const(4)  # -> 412
# UPnP subscriptions are per service (UDA 1.1 4.1.1): a control point subscribes to every
# service it shows. Four per service lets four control points (Home Assistant, a phone
# app, a second controller, a test tool) watch each one; each subscription costs ~0.5 KB
# (SID, callback list, pending event names) plus a ~1.5 KB NOTIFY while one is in flight.
GENA_MAX_SUBSCRIPTIONS_PER_SERVICE = const(4)  # -> 503
# Backstop over all services: four subscribers to every evented service of the reference
# board (tests/lan/agent.py DEFAULT_CONFIG: AgentInfo, relay, lamp x2, climate x2, doorbell,
# window = 8 services) -> 32, ~16 KB on a 32-bit board; a bigger config hits this first.
GENA_MAX_SUBSCRIPTIONS_TOTAL = const(32)  # -> 503
# One subscription per service per host: a control point needs one per service, and one
# host cannot take all four places of a service. A control point that lost its SID
# (restart without UNSUBSCRIBE) gets 503 until the old one expires (<= 1800 s) and
# polls meanwhile (Home Assistant does).
GENA_MAX_SUBSCRIPTIONS_PER_PEER = const(1)  # per service -> 503
# NOTIFY connections open at once: an ESP32 has ~10 lwIP sockets in all (SSDP 1, HTTP 4
# plus the listener); a change of several services queues the rest until one finishes.
# Counted over every NOTIFY in flight, also those of subscriptions removed meanwhile
# (whose delivery is cancelled): SUBSCRIBE + UNSUBSCRIBE in a loop cannot open more.
GENA_MAX_NOTIFY_IN_FLIGHT = const(4)
GENA_TIMEOUT_MIN_S = const(300)
GENA_TIMEOUT_MAX_S = const(1800)
GENA_NOTIFY_TIMEOUT_MS = const(2000)
GENA_MAX_FAILURES = const(3)  # consecutive failed NOTIFYs before the subscription is dropped
GENA_SEQ_MAX = const(0xFFFFFFFF)  # ui4; wraps to 1 (UDA 1.1 4.3.2: 0 only for the initial event)
# Sensors change continuously: at most one event per variable per interval (UDA
# "moderated" variables; the DCP's maximumRate).
GENA_MODERATION_MS = const(2000)

# --- tasks --------------------------------------------------------------------------
# A long-lived task (SSDP receiver, re-announce, accept loop, ...) that fails (MemoryError
# included) is restarted after a pause that doubles from TASK_RESTART_PAUSE_MS; after
# TASK_RESTARTS_MAX failures in a row (about 6 s of failing with these values) it is
# given up and the watchdog is no longer fed: the board reboots. A task that ran for
# TASK_HEALTHY_MS since its restart starts counting from zero again.
TASK_RESTART_PAUSE_MS = const(200)
TASK_RESTARTS_MAX = const(5)
TASK_HEALTHY_MS = const(10_000)

# --- over-the-air updates ------------------------------------------------------------
# The limits of receiving an update (chunk, manifest, file sizes, paths) are in
# ota_receive.py: that module is imported by the first BeginUpdate only, and every name
# here costs a globals entry on every board's heap whether it ever updates or not.
# A new version must serve one authenticated request from its paired Home Assistant
# within this many seconds of its first boot, or the board resets and the loader rolls
# back to the previous slot (Home Assistant polls it every 2 s after an install).
UPDATE_CONFIRM_S = const(120)
