# Paired mode in the core's pipeline (core.py + guard.py): state-changing actions and
# every GENA request verified before the body is parsed, read-only queries open, signed
# NOTIFYs, the per-peer failure budget, SetKey rotation. CPython and micropython.
from upnpguard import auth

from corehelpers import (
    CLIENT_IP,
    CONFIG,
    body_text,
    call,
    fault_code,
    header,
    request,
    service,
    soap_body,
)
from corehelpers import make_agent as _make_agent

SECRET = bytes(range(1, 33))
NEW_SECRET = bytes(range(101, 133))
BOOT_ID = 7  # corehelpers' boot id
PAIRED = dict(CONFIG)
PAIRED["security_mode"] = "paired"


class Store:
    def __init__(self):
        self.saved = []

    def __call__(self, text):
        self.saved.append(text)


def make_agent(store=None):
    return _make_agent(PAIRED, key=SECRET, store_key=store or Store())


class Signer:
    def __init__(self, secret=SECRET, boot_id=BOOT_ID, counter=1000):
        self.key = auth.Key(secret)
        self.boot_id = boot_id
        self.counter = counter

    def header(self, method, path, headers, body, counter=None):
        if counter is None:
            self.counter += 1
            counter = self.counter
        upper = {}
        for name, value in headers:
            upper[name.upper()] = value
        return auth.request_header(self.key, method, path, upper, self.boot_id, counter, body)


def signed_call(agent, svc, action, args=(), signer=None, body=None, sign_body=None, **kw):
    signer = signer or Signer()
    st = svc.type.service_type
    body = soap_body(st, action, args) if body is None else body
    headers = [("CONTENT-TYPE", 'text/xml; charset="utf-8"'), ("SOAPACTION", f'"{st}#{action}"')]
    value = signer.header(
        "POST", svc.control_path, headers, body if sign_body is None else sign_body, **kw
    )
    headers.append(("UG-AUTH", value))
    return agent.handle_request(request("POST", svc.control_path, headers, body), CLIENT_IP)


def test_unauthenticated_set_is_401_and_nothing_changes():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    response = call(agent, relay, "SetTarget", [("newTargetValue", "1")])
    assert response.status == 401
    assert agent.hal.pins[5].level == 0
    assert agent.stats()["auth_refused"] == {"missing": 1}
    # Refused before the body is parsed: a body that is not even XML gets the same 401.
    garbage = call(agent, relay, "SetTarget", body=b"<!DOCTYPE x>not xml")
    assert garbage.status == 401


def test_signed_set_works_and_a_replay_is_refused():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    signer = Signer()
    assert signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], signer).status == 200
    assert agent.hal.pins[5].level == 1
    # The same counter again (a captured request replayed): 401 with the highest counter.
    again = signed_call(
        agent, relay, "SetTarget", [("newTargetValue", "0")], signer, counter=signer.counter
    )
    assert again.status == 401
    assert header(again, "UG-AUTH-LAST") == str(signer.counter)
    assert agent.hal.pins[5].level == 1
    assert agent.stats()["auth_refused"] == {"replayed": 1}


def test_tampered_body_and_wrong_key_are_plain_401():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    st = relay.type.service_type
    signed = soap_body(st, "SetTarget", [("newTargetValue", "0")])
    sent = soap_body(st, "SetTarget", [("newTargetValue", "1")])
    tampered = signed_call(agent, relay, "SetTarget", body=sent, sign_body=signed)
    assert tampered.status == 401
    assert header(tampered, "UG-AUTH-LAST") is None
    wrong = signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], Signer(NEW_SECRET))
    assert wrong.status == 401
    assert agent.hal.pins[5].level == 0
    assert agent.stats()["auth_refused"] == {"bad_mac": 2}


def test_another_boot_id_is_told_the_current_one():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    stale = Signer(boot_id=BOOT_ID - 1)
    response = signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], stale)
    assert response.status == 401
    assert header(response, "UG-AUTH-BOOT") == str(BOOT_ID)
    assert agent.hal.pins[5].level == 0


CHALLENGE = 'UG-AUTH realm="upnp-guard"'


def test_every_401_names_the_scheme_in_www_authenticate():
    # RFC 9110, 11.6.1: a 401 carries a challenge; ours names UG-AUTH (docs/protocol.md).
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    signer = Signer()
    missing = call(agent, relay, "SetTarget", [("newTargetValue", "1")])
    wrong_key = signed_call(
        agent, relay, "SetTarget", [("newTargetValue", "1")], Signer(NEW_SECRET)
    )
    wrong_boot = signed_call(
        agent, relay, "SetTarget", [("newTargetValue", "1")], Signer(boot_id=BOOT_ID - 1)
    )
    assert signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], signer).status == 200
    replayed = signed_call(
        agent, relay, "SetTarget", [("newTargetValue", "0")], signer, counter=signer.counter
    )
    for refused in (missing, wrong_key, wrong_boot, replayed):
        assert refused.status == 401
        assert header(refused, "WWW-AUTHENTICATE") == CHALLENGE
    # A request that passed carries no challenge.
    ok = signed_call(agent, relay, "SetTarget", [("newTargetValue", "0")], signer)
    assert ok.status == 200
    assert header(ok, "WWW-AUTHENTICATE") is None


def test_read_only_queries_stay_open_but_a_signed_one_is_verified():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    assert call(agent, relay, "GetTarget").status == 200
    assert agent.handle_request(request("GET", "/desc.xml"), CLIENT_IP).status == 200
    # A key is tested with an authenticated read: the wrong one is refused.
    assert signed_call(agent, relay, "GetTarget").status == 200
    assert signed_call(agent, relay, "GetTarget", signer=Signer(NEW_SECRET)).status == 401
    # A query named in SOAPACTION cannot carry a state-changing body.
    st = relay.type.service_type
    smuggled = call(
        agent,
        relay,
        "GetTarget",
        body=soap_body(st, "SetTarget", [("newTargetValue", "1")]),
    )
    assert fault_code(smuggled) == 401
    assert agent.hal.pins[5].level == 0


def _subscribe(agent, svc, signer=None, extra=()):
    headers = [("NT", "upnp:event"), ("CALLBACK", f"<http://{CLIENT_IP}:8123/n>")]
    headers.extend(extra)
    if signer is not None:
        headers.append(("UG-AUTH", signer.header("SUBSCRIBE", svc.event_path, headers, b"")))
    return agent.handle_request(request("SUBSCRIBE", svc.event_path, headers), CLIENT_IP)


def test_subscribe_needs_the_authenticator_and_notify_is_signed():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    assert _subscribe(agent, relay).status == 401
    assert len(agent.gena.subscriptions) == 0
    response = _subscribe(agent, relay, Signer())
    assert response.status == 200
    response.after(True)
    sent = list(agent.notifications())
    assert len(sent) == 1
    data = sent[0][3]
    head, body = data.split(b"\r\n\r\n", 1)
    sid = header(response, "SID")
    value = auth.event_header(auth.Key(SECRET), sid, 0, BOOT_ID, body)
    assert ("UG-AUTH: " + value).encode() in head
    # An UNSUBSCRIBE without the authenticator is refused; the subscription stays.
    unsub = request("UNSUBSCRIBE", relay.event_path, [("SID", sid)])
    assert agent.handle_request(unsub, CLIENT_IP).status == 401
    assert len(agent.gena.subscriptions) == 1


def test_open_mode_sends_no_authenticator():
    agent = _make_agent()
    relay = service(agent, "relay", "SwitchPower")
    response = _subscribe(agent, relay)
    assert response.status == 200
    response.after(True)
    data = next(iter(agent.notifications()))[3]
    assert b"UG-AUTH" not in data
    assert "auth_refused" not in agent.stats()


def test_a_peer_over_its_failure_budget_gets_429_for_a_while():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    for _ in range(5):
        assert call(agent, relay, "SetTarget", [("newTargetValue", "1")]).status == 401
    limited = signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")])
    assert limited.status == 429
    assert agent.hal.pins[5].level == 0
    assert agent.stats()["auth_rate_limited"] == 1
    # Reads stay open for it; other peers are not affected.
    assert call(agent, relay, "GetTarget").status == 200
    other = call(agent, relay, "SetTarget", [("newTargetValue", "1")], peer="10.1.2.31")
    assert other.status == 401
    agent.clock.advance(60000)
    assert signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")]).status == 200


def _auth_failures(agent):
    text = body_text(call(agent, _info(agent), "GetInfo"))
    return int(text.split("<AuthFailures>")[1].split("<")[0])


def test_get_info_counts_refusals_but_not_the_retry_path():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    assert _auth_failures(agent) == 0
    call(agent, relay, "SetTarget", [("newTargetValue", "1")])  # no authenticator
    signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], Signer(NEW_SECRET))
    # Home Assistant's own retry path (stale boot id, used counter) is not a failure.
    signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], Signer(boot_id=BOOT_ID - 1))
    assert _auth_failures(agent) == 2
    for _ in range(4):  # over the budget: the 429s count too
        call(agent, relay, "SetTarget", [("newTargetValue", "1")])
    assert _auth_failures(agent) == 6
    assert agent.hal.pins[5].level == 0


def test_failure_memory_is_bounded():
    agent = make_agent()
    relay = service(agent, "relay", "SwitchPower")
    for i in range(40):
        call(agent, relay, "SetTarget", [("newTargetValue", "1")], peer="10.1.2.%d" % (100 + i))
    assert len(agent.gate._peers) == 8
    assert agent.stats()["auth_refused"] == {"missing": 40}


def _seal(signer, secret):
    counter = signer.counter + 1
    sealed = signer.key.wrap(secret, signer.boot_id, counter)
    return "".join("%02x" % b for b in sealed)


def _info(agent):
    return next(s for s in agent.root.services if s.short == "AgentInfo")


def test_set_key_rotates_and_the_old_key_is_refused():
    store = Store()
    agent = make_agent(store)
    info = _info(agent)
    relay = service(agent, "relay", "SwitchPower")
    signer = Signer()
    sealed = _seal(signer, NEW_SECRET)
    assert signed_call(agent, info, "SetKey", [("NewSealedKey", sealed)], signer).status == 200
    assert store.saved == [auth.format_key(NEW_SECRET)]
    old = signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], signer)
    assert old.status == 401
    new = Signer(NEW_SECRET, counter=signer.counter + 1)
    assert signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], new).status == 200
    assert agent.hal.pins[5].level == 1


def test_set_key_refuses_a_bad_seal_and_keeps_the_key():
    store = Store()
    agent = make_agent(store)
    info = _info(agent)
    relay = service(agent, "relay", "SwitchPower")
    signer = Signer()
    for bad in ("zz" * 32, "ab" * 31, "+f" * 32):
        response = signed_call(agent, info, "SetKey", [("NewSealedKey", bad)], signer)
        assert fault_code(response) == 600
    assert store.saved == []
    # Unauthenticated: refused before parsing.
    assert call(agent, info, "SetKey", [("NewSealedKey", "ab" * 32)]).status == 401
    assert signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], signer).status == 200


def test_set_key_in_open_mode_is_606():
    agent = _make_agent()
    response = call(agent, _info(agent), "SetKey", [("NewSealedKey", "ab" * 32)])
    assert fault_code(response) == 606


def test_set_key_that_cannot_be_stored_keeps_the_old_key():
    def broken(text):
        raise OSError("flash full")

    agent = make_agent(broken)
    relay = service(agent, "relay", "SwitchPower")
    signer = Signer()
    response = signed_call(
        agent, _info(agent), "SetKey", [("NewSealedKey", _seal(signer, NEW_SECRET))], signer
    )
    assert fault_code(response) == 501
    assert signed_call(agent, relay, "SetTarget", [("newTargetValue", "1")], signer).status == 200
