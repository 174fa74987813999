# GENA: CALLBACK rules (CallStranger), NT, SID combinations, TIMEOUT clamp, renewal,
# UNSUBSCRIBE, initial event, SEQ wrap, subscription cap, failures, moderation.
from upnpguard import gena, ipv4, limits

from corehelpers import CLIENT_IP, CONFIG, header, make_agent, request, service, subscribe


def _events(agent):
    """Send what is due, every NOTIFY delivered: [(sub, ip, port, request text)]."""
    out = []
    for sub, ip, port, data in agent.notifications():
        agent.notify_done(sub, True)
        out.append((sub, ip, port, data.decode()))
    return out


def _subscriptions(agent):
    return agent.stats()["subscriptions"]


def _ok_subscribe(agent, svc, peer=CLIENT_IP):
    response = subscribe(agent, svc, peer)
    assert response.status == 200, response.status
    response.after()
    return response


def test_subscribe_initial_event_and_later_event():
    agent = make_agent()
    svc = service(agent, "doorbell", "BinaryInput")
    response = subscribe(agent, svc, timeout="Second-600")
    assert response.status == 200
    sid = header(response, "SID")
    assert sid.startswith("uuid:")
    assert header(response, "TIMEOUT") == "Second-600"
    # Nothing is sent before the response went out.
    assert list(agent.notifications()) == []
    response.after()
    events = _events(agent)
    assert len(events) == 1
    _, ip, port, data = events[0]
    assert (ip, port) == (CLIENT_IP, 8123)
    assert data.startswith("NOTIFY /notify HTTP/1.1\r\n")
    assert "SEQ: 0\r\n" in data
    assert "SID: " + sid in data
    assert "NT: upnp:event" in data
    assert "NTS: upnp:propchange" in data
    assert "<State>0</State>" in data
    assert "<PressCount>0</PressCount>" in data
    agent.hal.inputs["doorbell"](True)
    agent.hal.inputs["doorbell"](False)
    events = _events(agent)
    assert len(events) == 1
    data = events[0][3]
    assert "SEQ: 1\r\n" in data
    assert "<PressCount>1</PressCount>" in data
    assert "<State>0</State>" in data
    length = int(data.split("CONTENT-LENGTH: ")[1].split("\r\n")[0])
    assert length == len(data.split("\r\n\r\n", 1)[1].encode())


def test_callback_rules_are_412():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    bad = [
        "<http://10.1.2.31:8123/notify>",  # another host on the subnet (CallStranger)
        "<http://10.9.9.9:80/>",  # off-subnet
        "<https://10.1.2.30/>",
        "<http://example.com/>",
        "<http://10.1.2.20:8123/>",  # the agent itself
        "http://10.1.2.30/",  # no angle brackets
        "<http://10.1.2.30:99999/>",
        "<http://10.1.2.30/a b>",
        "<http://10.1.2.30/" + "a" * 250 + ">",  # > 256 bytes
        "<http://10.1.2.30/>" * (limits.GENA_CALLBACK_URLS_MAX + 1),
        "<http://010.1.2.30/>",
    ]
    for callback in bad:
        assert subscribe(agent, svc, callback=callback).status == 412, callback
    assert _subscriptions(agent) == 0
    several = "<http://10.1.2.30:1/a><http://10.1.2.30:2/b>"
    assert subscribe(agent, svc, callback=several).status == 200


def test_callback_to_other_host_allowed_only_when_configured():
    subnet = ipv4.Subnet("10.1.2.20", 24)
    urls = gena.parse_callbacks("<http://10.1.2.31/x>", subnet, "10.1.2.30", True)
    assert urls == [("10.1.2.31", 80, "/x")]
    # The board config's switch (default off: test_callback_rules_are_412).
    config = dict(CONFIG)
    config["allow_other_callback_hosts"] = True
    agent = make_agent(config)
    svc = service(agent, "relay", "SwitchPower")
    assert subscribe(agent, svc, callback="<http://10.1.2.31:8123/notify>").status == 200


def test_nt_must_be_upnp_event():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    req = request(
        "SUBSCRIBE", svc.event_path, [("NT", "upnp:other"), ("CALLBACK", "<http://10.1.2.30/>")]
    )
    assert agent.handle_request(req, CLIENT_IP).status == 412
    req = request("SUBSCRIBE", svc.event_path, [("CALLBACK", "<http://10.1.2.30/>")])
    assert agent.handle_request(req, CLIENT_IP).status == 412
    _ok_subscribe(agent, svc)


def test_sid_with_callback_or_nt_is_400():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    sid = header(_ok_subscribe(agent, svc), "SID")
    for extra in ([("NT", "upnp:event")], [("CALLBACK", "<http://10.1.2.30/>")]):
        req = request("SUBSCRIBE", svc.event_path, [("SID", sid)] + extra)
        assert agent.handle_request(req, CLIENT_IP).status == 400
        req = request("UNSUBSCRIBE", svc.event_path, [("SID", sid)] + extra)
        assert agent.handle_request(req, CLIENT_IP).status == 400
    assert _subscriptions(agent) == 1


def test_timeout_is_clamped():
    assert gena.parse_timeout("Second-1") == limits.GENA_TIMEOUT_MIN_S
    assert gena.parse_timeout("Second-99999") == limits.GENA_TIMEOUT_MAX_S
    assert gena.parse_timeout("infinite") == limits.GENA_TIMEOUT_MAX_S
    assert gena.parse_timeout(None) == limits.GENA_TIMEOUT_MAX_S
    assert gena.parse_timeout("Second-900") == 900
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    assert header(subscribe(agent, svc, timeout="Second-5"), "TIMEOUT") == "Second-300"


def test_renew_extends_and_expiry_removes():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    sid = header(_ok_subscribe(agent, svc), "SID")
    agent.clock.advance(1_000_000)
    renew = request("SUBSCRIBE", svc.event_path, [("SID", sid), ("TIMEOUT", "Second-300")])
    response = agent.handle_request(renew, CLIENT_IP)
    assert response.status == 200
    assert header(response, "SID") == sid
    assert header(response, "TIMEOUT") == "Second-300"
    _events(agent)  # the initial event
    agent.clock.advance(299_000)
    assert _events(agent) == []  # (expiry runs first)
    assert _subscriptions(agent) == 1
    agent.clock.advance(2_000)
    assert _events(agent) == []
    assert _subscriptions(agent) == 0
    assert agent.handle_request(renew, CLIENT_IP).status == 412


def test_renew_and_unsubscribe_only_by_the_subscriber():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    sid = header(_ok_subscribe(agent, svc), "SID")
    other = "10.1.2.31"
    assert (
        agent.handle_request(request("SUBSCRIBE", svc.event_path, [("SID", sid)]), other).status
        == 412
    )
    assert (
        agent.handle_request(request("UNSUBSCRIBE", svc.event_path, [("SID", sid)]), other).status
        == 412
    )
    unknown = [("SID", "uuid:nope")]
    assert (
        agent.handle_request(request("UNSUBSCRIBE", svc.event_path, unknown), CLIENT_IP).status
        == 412
    )
    assert agent.handle_request(request("UNSUBSCRIBE", svc.event_path), CLIENT_IP).status == 412
    assert (
        agent.handle_request(
            request("UNSUBSCRIBE", svc.event_path, [("SID", sid)]), CLIENT_IP
        ).status
        == 200
    )
    assert _subscriptions(agent) == 0


def test_per_service_cap_is_503_and_frees_up():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    sids = []
    for i in range(limits.GENA_MAX_SUBSCRIPTIONS_PER_SERVICE):
        sids.append(header(_ok_subscribe(agent, svc, f"10.1.2.{40 + i}"), "SID"))
    assert subscribe(agent, svc, "10.1.2.60").status == 503
    # The cap is per service: the same type on another device and another service of
    # the board still accept the same subscriber.
    _ok_subscribe(agent, service(agent, "lamp", "SwitchPower"), "10.1.2.60")
    _ok_subscribe(agent, service(agent, "doorbell", "BinaryInput"), "10.1.2.60")
    req = request("UNSUBSCRIBE", svc.event_path, [("SID", sids[0])])
    assert agent.handle_request(req, "10.1.2.40").status == 200
    assert subscribe(agent, svc, "10.1.2.60").status == 200
    assert subscribe(agent, svc, "10.1.2.61").status == 503


def _all_services(agent):
    return [svc for device in agent.root.all_devices() for svc in device.services]


def test_one_subscriber_subscribes_to_every_service():
    agent = make_agent()
    evented = [svc for svc in _all_services(agent) if svc.type.evented()]
    assert len(evented) == 8  # AgentInfo, relay, lamp x2, climate x2, doorbell, window
    for svc in evented:
        _ok_subscribe(agent, svc)
    assert _subscriptions(agent) == len(evented)


def test_four_subscribers_to_every_service_of_the_reference_board_fit():
    agent = make_agent()
    evented = [svc for svc in _all_services(agent) if svc.type.evented()]
    for i in range(limits.GENA_MAX_SUBSCRIPTIONS_PER_SERVICE):
        for svc in evented:
            _ok_subscribe(agent, svc, f"10.1.2.{40 + i}")
    assert _subscriptions(agent) == limits.GENA_MAX_SUBSCRIPTIONS_TOTAL


def test_total_cap_is_503_and_frees_up():
    # Eight sensors = 16 services + AgentInfo: four per service would exceed the total.
    sensors = [{"kind": "sensor", "name": f"s{i}"} for i in range(8)]
    agent = make_agent({"security_mode": "open", "friendly_name": "Big board", "services": sensors})
    evented = [svc for svc in _all_services(agent) if svc.type.evented()]
    slots = [(svc, f"10.1.2.{40 + i}") for i in range(4) for svc in evented]
    assert len(slots) > limits.GENA_MAX_SUBSCRIPTIONS_TOTAL
    sids = []
    for svc, peer in slots[: limits.GENA_MAX_SUBSCRIPTIONS_TOTAL]:
        sids.append((svc, peer, header(_ok_subscribe(agent, svc, peer), "SID")))
    svc, peer = slots[limits.GENA_MAX_SUBSCRIPTIONS_TOTAL]
    assert subscribe(agent, svc, peer).status == 503
    old_svc, old_peer, sid = sids[0]
    req = request("UNSUBSCRIBE", old_svc.event_path, [("SID", sid)])
    assert agent.handle_request(req, old_peer).status == 200
    assert subscribe(agent, svc, peer).status == 200


def test_notifies_in_flight_are_bounded():
    agent = make_agent()
    evented = [svc for svc in _all_services(agent) if svc.type.evented()]
    for svc in evented:
        _ok_subscribe(agent, svc)
    first = list(agent.notifications())
    assert len(first) == limits.GENA_MAX_NOTIFY_IN_FLIGHT < len(evented)
    assert list(agent.notifications()) == []
    agent.notify_done(first[0][0], True)
    sent = len(first)
    while True:
        batch = list(agent.notifications())
        if not batch:
            break
        assert len(batch) == 1  # three still in flight: room for one
        agent.notify_done(batch[0][0], True)
        sent += 1
    for sub, _, _, _ in first[1:]:
        agent.notify_done(sub, True)
    # Every initial event went out, none twice.
    assert sent == len(evented)
    assert all(sub.seq == 1 for sub in agent.gena.subscriptions)


def test_seq_wraps_to_one():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    _ok_subscribe(agent, svc)
    sub = agent.gena.subscriptions[0]
    assert sub.next_seq() == 0
    sub.seq = limits.GENA_SEQ_MAX
    assert sub.next_seq() == limits.GENA_SEQ_MAX
    assert sub.next_seq() == 1


def _doorbell_subscriber():
    """(agent, doorbell service, subscription): one subscriber, its initial event delivered."""
    agent = make_agent()
    svc = service(agent, "doorbell", "BinaryInput")
    _ok_subscribe(agent, svc)
    _events(agent)  # the initial event
    return agent, svc, agent.gena.subscriptions[0]


def test_failed_notify_drops_subscriber_after_repeated_failures():
    agent, svc, sub = _doorbell_subscriber()
    for i in range(limits.GENA_MAX_FAILURES):
        agent.hal.inputs["doorbell"](i % 2 == 0)
        notifications = list(agent.notifications())
        assert [n[0] for n in notifications] == [sub]
        agent.notify_done(sub, False)
    assert _subscriptions(agent) == 0
    assert agent.stats()["subscriptions_dropped"] == 1
    _ok_subscribe(agent, svc)


def test_one_success_resets_failures():
    agent, _, sub = _doorbell_subscriber()
    for i in range(limits.GENA_MAX_FAILURES * 2):
        agent.hal.inputs["doorbell"](i % 2 == 0)
        assert [n[0] for n in agent.notifications()] == [sub]
        agent.notify_done(sub, i % 2 == 0)
    assert agent.gena.subscriptions == [sub]


def test_moderated_sensor_events_are_rate_limited():
    agent = make_agent()
    temperature = service(agent, "climate", "TemperatureSensor")
    _ok_subscribe(agent, temperature)
    _events(agent)  # initial
    update = agent.hal.sensors["climate"]
    update(2100, 4000)
    first = _events(agent)
    assert len(first) == 1
    assert "<CurrentTemperature>2100<" in first[0][3]
    for value in range(2101, 2130):
        update(value, 4000)
        agent.clock.advance(10)
    assert _events(agent) == []  # moderated: nothing inside the interval
    agent.clock.advance(limits.GENA_MODERATION_MS)
    later = _events(agent)
    assert len(later) == 1
    assert "<CurrentTemperature>2129<" in later[0][3]


def test_events_stay_within_one_service():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    _ok_subscribe(agent, relay)
    _events(agent)
    agent.hal.inputs["doorbell"](True)
    assert _events(agent) == []


def test_subscribe_refused_by_authorize():
    agent = make_agent(authorize=lambda request, service, kind: 412)
    svc = service(agent, "relay", "SwitchPower")
    assert subscribe(agent, svc).status == 412
    assert _subscriptions(agent) == 0


def test_notify_has_room_for_an_authenticator():
    head = gena.build_notify_head("10.1.2.30", 80, "/n", "uuid:x", 3, 10, [("AUTH", "v1 abc")])
    assert b"\r\nAUTH: v1 abc\r\n\r\n" in head


def test_callback_port_and_timeout_take_ascii_digits_only():
    # Found by fuzz/fuzz_agent.py: "2\u00b9" passed CPython's isdigit() and broke int().
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    assert subscribe(agent, svc, callback="<http://10.1.2.30:2\u00b9/n>").status == 412
    assert gena.parse_timeout("Second-3\u00b2") == limits.GENA_TIMEOUT_MAX_S
    assert _subscriptions(agent) == 0
    assert subscribe(agent, svc, callback="<http://10.1.2.30:21/n>").status == 200


def _unsubscribe(agent, svc, sid, peer=CLIENT_IP):
    req = request("UNSUBSCRIBE", svc.event_path, [("SID", sid)])
    return agent.handle_request(req, peer)


def test_notifies_of_removed_subscriptions_stay_counted_and_are_cancelled():
    # SUBSCRIBE with a callback that never answers, then UNSUBSCRIBE, repeated: each
    # initial NOTIFY stays in flight (a socket and its bytes) until the shell reports it.
    agent = make_agent()
    svc = service(agent, "doorbell", "BinaryInput")
    cancelled = []
    agent.listen(None, cancelled.append)
    taken = []
    for _ in range(50):
        sid = header(_ok_subscribe(agent, svc), "SID")
        mine = [n[0] for n in agent.notifications()]
        taken.extend(mine)
        assert _unsubscribe(agent, svc, sid).status == 200
        for sub in mine:
            assert not agent.notify_wanted(sub)  # its delivery, if not started, sends nothing
    stats = agent.stats()
    assert len(taken) == limits.GENA_MAX_NOTIFY_IN_FLIGHT
    assert stats["notify_in_flight"] == limits.GENA_MAX_NOTIFY_IN_FLIGHT
    assert stats["notify_in_flight_peak"] == limits.GENA_MAX_NOTIFY_IN_FLIGHT
    # Each removal asked the shell to cancel that delivery.
    assert cancelled == taken
    # A cancelled delivery reports back (a failure): room again, nothing dropped.
    for sub in taken:
        agent.notify_done(sub, False)
        agent.notify_done(sub, False)  # reported twice: counted once
    stats = agent.stats()
    assert stats["notify_in_flight"] == 0
    assert stats["subscriptions_dropped"] == 0
    # A subscriber that stays gets its initial event.
    _ok_subscribe(agent, svc)
    assert len(_events(agent)) == 1


def test_expired_subscription_in_flight_is_cancelled_and_stays_counted():
    agent = make_agent()
    svc = service(agent, "doorbell", "BinaryInput")
    cancelled = []
    agent.listen(None, cancelled.append)
    subscribe(agent, svc, timeout="Second-300").after()
    [(sub, _, _, _)] = list(agent.notifications())
    assert agent.notify_wanted(sub)
    agent.clock.advance(301_000)
    assert list(agent.notifications()) == []  # expiry runs first
    assert _subscriptions(agent) == 0
    assert not agent.notify_wanted(sub)
    assert cancelled == [sub]
    assert agent.stats()["notify_in_flight"] == 1
    agent.notify_done(sub, True)
    assert agent.stats()["notify_in_flight"] == 0


def test_one_subscription_per_service_per_peer():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    sid = header(_ok_subscribe(agent, relay), "SID")
    assert limits.GENA_MAX_SUBSCRIPTIONS_PER_PEER == 1
    # One host cannot take the other places of the service...
    for _ in range(limits.GENA_MAX_SUBSCRIPTIONS_PER_SERVICE):
        assert subscribe(agent, relay).status == 503
    # ...which stay for other hosts, and the host may subscribe to other services.
    for i in range(limits.GENA_MAX_SUBSCRIPTIONS_PER_SERVICE - 1):
        _ok_subscribe(agent, relay, f"10.1.2.{40 + i}")
    _ok_subscribe(agent, service(agent, "doorbell", "BinaryInput"))
    assert _unsubscribe(agent, relay, sid).status == 200
    _ok_subscribe(agent, relay)


def test_subscription_whose_response_was_not_written_is_released():
    agent = make_agent()
    svc = service(agent, "relay", "SwitchPower")
    response = subscribe(agent, svc)
    assert response.status == 200
    response.after(False)  # the shell could not write the SUBSCRIBE response
    assert _subscriptions(agent) == 0
    assert agent.stats()["subscriptions_released"] == 1
    assert list(agent.notifications()) == []
    # The subscriber is not locked out of the service until the lost one expires.
    _ok_subscribe(agent, svc)
    assert len(_events(agent)) == 1


def test_ip_to_bytes_is_network_order_and_strict():
    # What the shell joins the SSDP group with (the ESP32 port has no socket.inet_pton).
    assert ipv4.ip_to_bytes("239.255.255.250") == b"\xef\xff\xff\xfa"
    assert ipv4.ip_to_bytes("10.1.2.20") == bytes([10, 1, 2, 20])
    for bad in ("10.1.2", "10.1.2.256", "010.1.2.3", "a.b.c.d", "", "1.2.3.4.5"):
        try:
            ipv4.ip_to_bytes(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
