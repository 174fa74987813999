# SSDP: M-SEARCH parsing (MAN exact, MX clamp), matching (all target kinds, lower
# versions), subnet filter, coalescing, reply budget, announcements.
from upnpguard import limits, ssdp

from corehelpers import AGENT_IP, CLIENT_IP, make_agent


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
    targets = agent.announcer.targets
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
    targets = list(agent.announcer.targets) + [
        ("urn:x-test:service:Fake:3", "uuid:a::urn:x-test:service:Fake:3"),
    ]
    found = ssdp.matches("urn:x-test:service:Fake:2", targets)
    assert found == [("urn:x-test:service:Fake:2", "uuid:a::urn:x-test:service:Fake:3")]
    assert ssdp.matches("urn:x-test:service:Fake:4", targets) == []


def test_reply_after_random_delay_within_mx():
    agent = make_agent()
    responder = agent.responder
    responder.datagram(msearch("upnp:rootdevice", mx="3"), CLIENT_IP, 50000)
    assert responder.due() == []
    assert responder.next_due_ms() == 1500  # the fake random source returns limit // 2
    agent.clock.advance(1500)
    replies = responder.due()
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
    agent.responder.datagram(msearch("ssdp:all", mx=None, host=AGENT_IP + ":1900"), CLIENT_IP, 1900)
    assert len(agent.responder.due()) == len(agent.announcer.targets)


def test_foreign_sources_are_dropped_and_counted():
    agent = make_agent()
    responder = agent.responder
    for source in ("10.1.3.30", "172.16.0.5", "10.1.2.0", "10.1.2.255", AGENT_IP, "bogus"):
        responder.datagram(msearch("ssdp:all"), source, 1900)
    assert responder.pending == []
    assert responder.dropped_foreign == 5  # the agent's own looped-back multicast is ignored
    responder.datagram(msearch("ssdp:all", mx="1"), CLIENT_IP, 1900)
    agent.clock.advance(1000)
    assert responder.due()


def test_duplicates_from_one_source_are_coalesced():
    agent = make_agent()
    responder = agent.responder
    for _ in range(10):
        responder.datagram(msearch("upnp:rootdevice", mx="1"), CLIENT_IP, 1900)
    responder.datagram(
        msearch("urn:schemas-upnp-org:device:BinaryLight:1", mx="1"), CLIENT_IP, 1900
    )
    assert len(responder.pending) == 1
    agent.clock.advance(1000)
    assert len(responder.due()) == 2


def test_pending_sources_are_bounded():
    agent = make_agent()
    responder = agent.responder
    for i in range(limits.SSDP_MAX_PENDING_SOURCES + 5):
        responder.datagram(msearch("upnp:rootdevice"), f"10.1.2.{100 + i}", 1900)
    assert len(responder.pending) == limits.SSDP_MAX_PENDING_SOURCES
    assert responder.dropped_busy == 5


def test_flood_sends_fewer_bytes_than_it_receives():
    agent = make_agent()
    responder = agent.responder
    # A flood of ssdp:all searches from many (spoofed) on-subnet sources over 10 s.
    for step in range(200):
        for i in range(8):
            responder.datagram(msearch("ssdp:all", mx="1"), f"10.1.2.{50 + i}", 1900 + step)
        agent.clock.advance(50)
        responder.due()
    assert responder.bytes_in > 0
    assert responder.bytes_out <= responder.bytes_in
    assert responder.dropped_budget > 0
    # After the flood, the budget refills and a normal search is answered again.
    agent.clock.advance(10_000)
    responder.due()
    responder.datagram(msearch("upnp:rootdevice", mx="1"), CLIENT_IP, 1234)
    agent.clock.advance(1000)
    assert len(responder.due()) == 1


def test_alive_and_byebye():
    agent = make_agent()
    alive = list(agent.announcer.alive())
    byebye = list(agent.announcer.byebye())
    assert len(alive) == len(byebye) == len(agent.announcer.targets)
    text = alive[0].decode()
    assert text.startswith("NOTIFY * HTTP/1.1\r\n")
    assert "NTS: ssdp:alive" in text
    assert "NT: upnp:rootdevice" in text
    assert "CACHE-CONTROL: max-age=1800" in text
    assert "BOOTID.UPNP.ORG: 7" in text
    assert "NTS: ssdp:byebye" in byebye[0].decode()
    assert "LOCATION" not in byebye[0].decode()
    # 3 + 2d + k (UDA 1.1 1.2.2): root (3 + AgentInfo) and five embedded devices.
    kinds = [nt for nt, _ in agent.announcer.targets]
    assert kinds.count("urn:schemas-upnp-org:service:SwitchPower:1") == 2
    assert kinds.count("urn:upnp-guard-org:device:Input:1") == 2
