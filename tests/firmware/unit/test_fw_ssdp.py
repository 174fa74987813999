# SSDP: M-SEARCH parsing (MAN exact, MX clamp), matching (all target kinds, lower
# versions), subnet filter, coalescing, the per-source reply budget and its bounded
# source table, announcements.
from upnpguard import limits, ssdp

from corehelpers import AGENT_IP, CLIENT_IP, make_agent


def targets_of(agent):
    return list(ssdp.targets(agent.root))


def msearch(st, mx="2", man='"ssdp:discover"', host="239.255.255.250:1900"):
    lines = ["M-SEARCH * HTTP/1.1", "HOST: " + host, "MAN: " + man, "ST: " + st]
    if mx is not None:
        lines.append("MX: " + mx)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_parse_msearch_man_must_be_exact():
    assert ssdp.parse_msearch(msearch("ssdp:all")).st == "ssdp:all"
    assert ssdp.parse_msearch(msearch("ssdp:all", man="ssdp:discover")) is None
    assert ssdp.parse_msearch(msearch("ssdp:all", man='"ssdp:discoverx"')) is None
    assert ssdp.parse_msearch(b"M-SEARCH * HTTP/1.0\r\n\r\n") is None
    assert ssdp.parse_msearch(b"\xff\xfe") is None
    assert ssdp.parse_msearch(msearch("ssdp:all") + b"x" * limits.SSDP_DATAGRAM_MAX) is None


def test_mx_is_clamped_and_required_for_multicast():
    assert ssdp.parse_msearch(msearch("ssdp:all", mx="120")).mx == limits.MX_MAX
    assert ssdp.parse_msearch(msearch("ssdp:all", mx="0")).mx == limits.MX_MIN
    assert ssdp.parse_msearch(msearch("ssdp:all", mx=None)) is None
    assert ssdp.parse_msearch(msearch("ssdp:all", mx="x")) is None
    unicast = ssdp.parse_msearch(msearch("ssdp:all", mx=None, host=AGENT_IP + ":1900"))
    assert unicast.mx == 0
    assert not unicast.multicast


def test_matching_every_target_kind():
    agent = make_agent()
    targets = targets_of(agent)
    root = agent.root
    assert len(ssdp.matches("ssdp:all", targets)) == len(targets)
    assert ssdp.matches("upnp:rootdevice", targets) == [
        ("upnp:rootdevice", root.udn + "::upnp:rootdevice")
    ]
    child = root.children[0]
    assert ssdp.matches(child.udn, targets) == [(child.udn, child.udn)]
    lights = ssdp.matches("urn:schemas-upnp-org:device:BinaryLight:1", targets)
    assert [usn for _, usn in lights] == [child.udn + "::urn:schemas-upnp-org:device:BinaryLight:1"]
    power = ssdp.matches("urn:schemas-upnp-org:service:SwitchPower:1", targets)
    assert len(power) == 2  # the switch and the dimmer
    assert ssdp.matches("urn:schemas-upnp-org:service:SwitchPower:2", targets) == []
    assert ssdp.matches("urn:schemas-upnp-org:device:MediaRenderer:1", targets) == []
    assert ssdp.matches("uuid:00000000-0000-0000-0000-000000000000", targets) == []


def test_lower_version_is_answered_with_requested_version():
    agent = make_agent()
    targets = targets_of(agent) + [
        ("urn:x-test:service:Fake:3", "uuid:a::urn:x-test:service:Fake:3"),
    ]
    found = ssdp.matches("urn:x-test:service:Fake:2", targets)
    assert found == [("urn:x-test:service:Fake:2", "uuid:a::urn:x-test:service:Fake:3")]
    assert ssdp.matches("urn:x-test:service:Fake:4", targets) == []


def test_reply_after_random_delay_within_mx():
    agent = make_agent()
    agent.handle_datagram(msearch("upnp:rootdevice", mx="3"), CLIENT_IP, 50000)
    assert list(agent.outgoing()) == []
    assert agent.next_deadline_ms() == 1500  # the fake random source returns limit // 2
    agent.clock.advance(1499)
    assert list(agent.outgoing()) == []
    assert agent.next_deadline_ms() == 1
    agent.clock.advance(1)
    replies = list(agent.outgoing())
    assert len(replies) == 1
    ip, port, datagram = replies[0]
    assert (ip, port) == (CLIENT_IP, 50000)
    text = datagram.decode()
    assert text.startswith("HTTP/1.1 200 OK\r\n")
    for header in (
        "CACHE-CONTROL: max-age=1800",
        "EXT:",
        "ST: upnp:rootdevice",
        "BOOTID.UPNP.ORG: 7",
    ):
        assert header in text, header
    assert f"CONFIGID.UPNP.ORG: {agent.config_id}" in text
    assert "LOCATION: http://10.1.2.20:49152/desc.xml" in text


def test_unicast_search_answered_at_once():
    agent = make_agent()
    agent.handle_datagram(msearch("ssdp:all", mx=None, host=AGENT_IP + ":1900"), CLIENT_IP, 1900)
    assert len(list(agent.outgoing())) == len(targets_of(agent))


def test_foreign_sources_are_dropped_and_counted():
    agent = make_agent()
    responder = agent.responder
    for source in ("10.1.3.30", "172.16.0.5", "10.1.2.0", "10.1.2.255", AGENT_IP, "bogus"):
        responder.datagram(msearch("ssdp:all"), source, 1900)
    assert responder.sources == []
    assert responder.dropped_foreign == 5  # the agent's own looped-back multicast is ignored
    responder.datagram(msearch("ssdp:all", mx="1"), CLIENT_IP, 1900)
    agent.clock.advance(1000)
    assert list(responder.due())


def test_duplicates_from_one_source_are_coalesced():
    agent = make_agent()
    responder = agent.responder
    for _ in range(10):
        responder.datagram(msearch("upnp:rootdevice", mx="1"), CLIENT_IP, 1900)
    responder.datagram(
        msearch("urn:schemas-upnp-org:device:BinaryLight:1", mx="1"), CLIENT_IP, 1900
    )
    assert len(responder.sources) == 1
    agent.clock.advance(1000)
    assert len(list(responder.due())) == 2


def spoofed(i):
    """On-subnet addresses an attacker can spoof (10.1.2.0/24 minus the test's own)."""
    return "10.1.2." + str(40 + i % 200)


def answer(responder, per_ip=None):
    """Send what is due; count bytes per destination address in `per_ip`."""
    replies = list(responder.due())
    if per_ip is not None:
        for ip, _, datagram in replies:
            per_ip[ip] = per_ip.get(ip, 0) + len(datagram)
    return replies


def test_source_table_is_bounded():
    agent = make_agent()
    responder = agent.responder
    for i in range(limits.SSDP_SOURCES_MAX + 5):
        responder.datagram(msearch("upnp:rootdevice"), spoofed(i), 1900)
    assert len(responder.sources) == limits.SSDP_SOURCES_MAX
    # Every entry holds a first answer still pending: the newcomers are dropped, and the
    # entries they would have evicted are answered at once to free their slots.
    assert responder.dropped_busy == 5
    assert len(answer(responder)) == 5
    responder.datagram(msearch("upnp:rootdevice"), CLIENT_IP, 1900)
    assert len(responder.sources) == limits.SSDP_SOURCES_MAX
    assert any(src.addr == CLIENT_IP for src in responder.sources)


def test_first_search_gets_full_answer_then_only_what_it_pays_for():
    agent = make_agent()
    responder = agent.responder
    full = sum(len(agent.announcer.response(nt, usn)) for nt, usn in targets_of(agent))
    assert full <= limits.SSDP_FIRST_CONTACT_BYTES  # one ssdp:all answer is the allowance
    search = msearch("ssdp:all", mx=None, host=AGENT_IP + ":1900")
    responder.datagram(search, CLIENT_IP, 1900)
    assert sum(len(d) for _, _, d in answer(responder)) == full
    # Searching again and again: replies never exceed max(allowance, bytes sent).
    sent = len(search)
    for _ in range(400):
        responder.datagram(search, CLIENT_IP, 1900)
        sent += len(search)
        answer(responder)
        agent.clock.advance(10)
        assert responder.bytes_out <= max(limits.SSDP_FIRST_CONTACT_BYTES, sent)
    assert responder.bytes_out > limits.SSDP_FIRST_CONTACT_BYTES  # it paid: answered again
    assert responder.bytes_out > sent // 2  # ...for about what it sent
    assert responder.dropped_budget > 0


def test_allowance_comes_back_after_the_budget_window():
    agent = make_agent()
    responder = agent.responder
    search = msearch("ssdp:all", mx=None, host=AGENT_IP + ":1900")
    everything = len(targets_of(agent))
    responder.datagram(search, CLIENT_IP, 1900)
    assert len(answer(responder)) == everything
    agent.clock.advance(limits.SSDP_BUDGET_WINDOW_MS - 10)
    responder.datagram(search, CLIENT_IP, 1900)
    assert len(answer(responder)) < everything
    agent.clock.advance(10)
    responder.datagram(search, CLIENT_IP, 1900)
    assert len(answer(responder)) == everything


def test_one_flooding_host_does_not_starve_another():
    agent = make_agent()
    responder = agent.responder
    for step in range(500):
        responder.datagram(msearch("ssdp:all", mx="1"), "10.1.2.66", 1900 + step % 50)
        agent.clock.advance(10)
        answer(responder)
    responder.datagram(msearch("ssdp:all", mx="1"), CLIENT_IP, 1900)
    agent.clock.advance(1000)
    mine = [r for r in answer(responder) if r[0] == CLIENT_IP]
    assert len(mine) == len(targets_of(agent))


def test_many_spoofed_sources_cannot_grow_memory_or_starve_a_searcher():
    agent = make_agent()
    responder = agent.responder
    received = {}
    answered = {}
    searcher_replies = 0
    targets = len(targets_of(agent))
    # 200 spoofed on-subnet sources, each searching 10 times a second for 20 s; the real
    # searcher searches once in a while (a fresh socket each time, like a control point).
    for step in range(400):
        for i in range(10):
            source = spoofed(step * 10 + i)
            data = msearch("ssdp:all", mx="5")
            received[source] = received.get(source, 0) + len(data)
            responder.datagram(data, source, 1900)
        if step % 50 == 25:
            responder.datagram(msearch("ssdp:all", mx="2"), CLIENT_IP, 40000 + step)
        assert len(responder.sources) <= limits.SSDP_SOURCES_MAX
        for ip, _, _ in answer(responder, answered):
            if ip == CLIENT_IP:
                searcher_replies += 1
        agent.clock.advance(50)
    # Each of its searches but the first comes within the window after its full answer.
    assert searcher_replies >= targets
    for source, out in answered.items():
        if source != CLIENT_IP:
            assert out <= max(limits.SSDP_FIRST_CONTACT_BYTES, received[source]), source
    # In all: what they sent plus one allowance per address (a 256-bit map of the host
    # part bounds the allowances of any flood to 256 per window).
    flood_out = sum(v for k, v in answered.items() if k != CLIENT_IP)
    assert flood_out <= sum(received.values()) + len(received) * limits.SSDP_FIRST_CONTACT_BYTES


def test_evicted_source_gets_no_second_allowance_in_the_window():
    agent = make_agent()
    responder = agent.responder
    search = msearch("ssdp:all", mx=None, host=AGENT_IP + ":1900")
    responder.datagram(search, CLIENT_IP, 1900)
    assert len(answer(responder)) == len(targets_of(agent))
    # Push it out of the table with answered, idle entries of other sources.
    for i in range(limits.SSDP_SOURCES_MAX):
        responder.datagram(search, spoofed(i), 1900)
        answer(responder)
    assert all(src.addr != CLIENT_IP for src in responder.sources)
    responder.datagram(search, CLIENT_IP, 1900)
    assert answer(responder) == []
    assert responder.dropped_budget >= 1


def test_flood_sends_fewer_bytes_than_it_receives():
    agent = make_agent()
    responder = agent.responder
    # A flood of ssdp:all searches from many (spoofed) on-subnet sources over 10 s.
    for step in range(200):
        for i in range(8):
            responder.datagram(msearch("ssdp:all", mx="1"), f"10.1.2.{50 + i}", 1900 + step)
        agent.clock.advance(50)
        answer(responder)
    assert responder.bytes_in > 0
    assert responder.bytes_out <= responder.bytes_in
    assert responder.dropped_budget > 0
    # After the flood a normal search from another host is answered. (The flooders'
    # last searches may be answered too, with the credit their bytes earned: how many
    # depends on the reply size to the byte.)
    responder.datagram(msearch("upnp:rootdevice", mx="1"), CLIENT_IP, 1234)
    agent.clock.advance(1000)
    assert [port for ip, port, _ in answer(responder) if ip == CLIENT_IP] == [1234]


def test_alive_and_byebye():
    agent = make_agent()
    alive = list(agent.announcements("alive"))
    byebye = list(agent.announcements("byebye"))
    assert len(alive) == len(byebye) == len(targets_of(agent))
    text = alive[0].decode()
    assert text.startswith("NOTIFY * HTTP/1.1\r\n")
    assert "NTS: ssdp:alive" in text
    assert "NT: upnp:rootdevice" in text
    assert "CACHE-CONTROL: max-age=1800" in text
    assert "BOOTID.UPNP.ORG: 7" in text
    assert "NTS: ssdp:byebye" in byebye[0].decode()
    assert "LOCATION" not in byebye[0].decode()
    # 3 + 2d + k (UDA 1.1 1.2.2): root (3 + AgentInfo) and five embedded devices.
    kinds = [nt for nt, _ in targets_of(agent)]
    assert kinds.count("urn:schemas-upnp-org:service:SwitchPower:1") == 2
    assert kinds.count("urn:upnp-guard-org:device:Input:1") == 2
