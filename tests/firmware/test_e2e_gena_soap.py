"""GENA and SOAP rules on the running agent: CallStranger (412), subscription caps (503),
failing subscribers dropped, strict SOAP faults; the agent keeps serving after each."""

from __future__ import annotations

import re
import time
from contextlib import ExitStack

import pytest

from tests.firmware.e2e import (
    SWITCH_POWER,
    assert_still_serves,
    description,
    exchange,
    notify_server,
    request,
    set_target,
    sid_of,
    soap,
    status,
    subscribe,
    url_of,
    wait_for,
)
from tests.lan import Lan
from tests.lan.agent import Agent, boot_id, start_agent

pytestmark = [pytest.mark.lan, pytest.mark.usefixtures("lan_sockets")]

DIMMING = "urn:schemas-upnp-org:service:Dimming:1"
MAX_SUBSCRIPTIONS_PER_SERVICE = 4
EVENTED_SERVICES = 8  # of DEFAULT_CONFIG
MAX_FAILURES = 3


def test_callback_to_another_host_is_412(lan: Lan, agent: Agent) -> None:
    attacker = lan.add_host("attacker")
    victim = lan.add_host("victim")
    desc = description(attacker, agent)
    path = url_of(desc, "eventSubURL", "SwitchPower")
    # CallStranger: make the agent send events (traffic) to somebody else.
    response = exchange(attacker, agent, subscribe(agent, path, f"<http://{victim.ip}:80/>"))
    assert status(response) == 412
    off_subnet = exchange(attacker, agent, subscribe(agent, path, "<http://172.16.0.1:80/>"))
    assert status(off_subnet) == 412
    named = exchange(attacker, agent, subscribe(agent, path, "<http://victim.example/>"))
    assert status(named) == 412
    assert agent.stats()["subscriptions"] == 0
    with notify_server(attacker) as events:
        ok = exchange(attacker, agent, subscribe(agent, path, f"<http://{attacker.ip}:8123/n>"))
        assert status(ok) == 200
        wait_for(lambda: len(events) == 1)
    assert b"SEQ: 0\r\n" in events[0]
    assert b"<Status>0</Status>" in events[0]


def test_nt_and_sid_rules(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    path = url_of(description(pc, agent), "eventSubURL", "SwitchPower")
    wrong_nt = request(
        agent, "SUBSCRIBE", path, {"NT": "upnp:other", "CALLBACK": f"<http://{pc.ip}/>"}
    )
    assert status(exchange(pc, agent, wrong_nt)) == 412
    both = request(agent, "SUBSCRIBE", path, {"SID": "uuid:x", "NT": "upnp:event"})
    assert status(exchange(pc, agent, both)) == 400
    unknown = request(agent, "SUBSCRIBE", path, {"SID": "uuid:x"})
    assert status(exchange(pc, agent, unknown)) == 412
    with notify_server(pc):
        ok = exchange(pc, agent, subscribe(agent, path, f"<http://{pc.ip}:8123/n>"))
        assert status(ok) == 200
        sid = re.search(rb"SID: (uuid:[0-9a-f-]+)", ok).group(1).decode()
        assert b"TIMEOUT: Second-300" in ok
        renew = request(agent, "SUBSCRIBE", path, {"SID": sid, "TIMEOUT": "Second-99999"})
        renewed = exchange(pc, agent, renew)
        assert status(renewed) == 200
        assert b"TIMEOUT: Second-1800" in renewed
        gone = exchange(pc, agent, request(agent, "UNSUBSCRIBE", path, {"SID": sid}))
        assert status(gone) == 200
    assert agent.stats()["subscriptions"] == 0


def test_fifth_subscription_to_one_service_is_503(lan: Lan, agent: Agent) -> None:
    # One subscription per service per host: four control points on four hosts.
    hosts = [lan.add_host(f"cp{i}") for i in range(MAX_SUBSCRIPTIONS_PER_SERVICE + 1)]
    desc = description(hosts[0], agent)
    path = url_of(desc, "eventSubURL", "SwitchPower")
    with ExitStack() as stack:
        inboxes = [stack.enter_context(notify_server(host)) for host in hosts]
        sids = []
        for host in hosts[:MAX_SUBSCRIPTIONS_PER_SERVICE]:
            response = exchange(host, agent, subscribe(agent, path, f"<http://{host.ip}:8123/n>"))
            assert status(response) == 200
            sids.append(sid_of(response))
        last = hosts[-1]
        refused = exchange(last, agent, subscribe(agent, path, f"<http://{last.ip}:8123/x>"))
        assert status(refused) == 503
        wait_for(lambda: all(len(inbox) == 1 for inbox in inboxes[:-1]))
        assert_still_serves(last, agent)
        # The cap is per service: another service still takes the same subscriber.
        other = url_of(desc, "eventSubURL", "BinaryInput")
        assert (
            status(exchange(last, agent, subscribe(agent, other, f"<http://{last.ip}:8123/o>")))
            == 200
        )
        first = hosts[0]
        exchange(first, agent, request(agent, "UNSUBSCRIBE", path, {"SID": sids[0]}))
        again = exchange(last, agent, subscribe(agent, path, f"<http://{last.ip}:8123/y>"))
        assert status(again) == 200
    assert agent.stats()["refused"]["503"] >= 1
    assert_still_serves(last, agent)


def test_one_subscriber_subscribes_to_every_service(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    paths = re.findall(r"<eventSubURL>([^<]+)</eventSubURL>", description(pc, agent))
    # AgentInfo, relay, lamp (SwitchPower, Dimming), climate (temperature, humidity),
    # doorbell, window.
    assert len(paths) == EVENTED_SERVICES
    with notify_server(pc) as events:
        for path in paths:
            response = exchange(pc, agent, subscribe(agent, path, f"<http://{pc.ip}:8123/n>"))
            assert status(response) == 200, (path, response[:100])
        # Every service sends its initial event (SEQ 0), each to its own SID.
        wait_for(lambda: len(events) == len(paths))
    sids = {sid_of(event) for event in events}
    assert len(sids) == len(paths)
    assert all(b"SEQ: 0\r\n" in event for event in events)
    assert agent.stats()["subscriptions"] == len(paths)
    assert_still_serves(pc, agent)


def test_unreachable_subscriber_is_dropped(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    path = url_of(description(pc, agent), "eventSubURL", "BinaryInput")
    # Nothing listens on this port: every NOTIFY fails (connection refused).
    response = exchange(pc, agent, subscribe(agent, path, f"<http://{pc.ip}:9/n>"))
    assert status(response) == 200
    for _ in range(MAX_FAILURES):
        time.sleep(0.5)
        agent.press_button("doorbell")
    wait_for(lambda: agent.stats()["subscriptions_dropped"] == 1)
    assert agent.stats()["subscriptions"] == 0
    assert_still_serves(pc, agent)


def test_button_press_and_sensor_events(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    with notify_server(pc) as events:
        for service in ("BinaryInput", "TemperatureSensor"):
            path = url_of(desc, "eventSubURL", service)
            assert (
                status(
                    exchange(pc, agent, subscribe(agent, path, f"<http://{pc.ip}:8123/{service}>"))
                )
                == 200
            )
        wait_for(lambda: len(events) == 2)
        agent.press_button("doorbell")
        wait_for(lambda: any(b"<PressCount>1</PressCount>" in e for e in events))
        agent.set_sensor("climate", temperature=21.5, humidity=40)
        wait_for(lambda: any(b"<CurrentTemperature>2150</CurrentTemperature>" in e for e in events))


def test_soap_faults_and_switching(lan: Lan, agent: Agent) -> None:
    pc = lan.add_host("pc")
    desc = description(pc, agent)

    def fault(data: bytes) -> int:
        response = exchange(pc, agent, data)
        assert status(response) == 500, response
        return int(re.search(rb"<errorCode>(\d+)</errorCode>", response).group(1))

    assert fault(soap(agent, desc, SWITCH_POWER, "Explode")) == 401
    assert fault(soap(agent, desc, SWITCH_POWER, "SetTarget", "<wrong>1</wrong>")) == 402
    assert fault(set_target(agent, desc, "maybe")) == 600
    assert (
        fault(
            soap(
                agent,
                desc,
                DIMMING,
                "SetLoadLevelTarget",
                "<newLoadlevelTarget>101</newLoadlevelTarget>",
            )
        )
        == 601
    )
    assert fault(soap(agent, desc, DIMMING, "StepUp")) == 602
    doctype = set_target(agent, desc, 1).replace(
        b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "1">]>'
    )
    doctype = re.sub(
        rb"CONTENT-LENGTH: \d+",
        f"CONTENT-LENGTH: {len(doctype.split(b'\r\n\r\n', 1)[1])}".encode(),
        doctype,
    )
    assert status(exchange(pc, agent, doctype)) == 400
    assert agent.pins()["5"] == 0
    ok = exchange(pc, agent, set_target(agent, desc, 1))
    assert status(ok) == 200
    assert b"SetTargetResponse" in ok
    assert agent.pins()["5"] == 1
    dim = soap(
        agent, desc, DIMMING, "SetLoadLevelTarget", "<newLoadlevelTarget>40</newLoadlevelTarget>"
    )
    assert status(exchange(pc, agent, dim)) == 200
    on = set_target(agent, desc, 1)
    # Both SwitchPower services share a type; url_of picks the first (the relay), so
    # switch the lamp through its own control URL.
    lamp_path = re.findall(r"<controlURL>([^<]*/ctl/SwitchPower)</controlURL>", desc)[1]
    on = on.replace(url_of(desc, "controlURL", "SwitchPower").encode(), lamp_path.encode())
    assert status(exchange(pc, agent, on)) == 200
    assert agent.pins()["18"] == 65535 * 40 // 100


def test_reboot_keeps_identity_and_increments_bootid(lan: Lan) -> None:
    state = lan.workdir / "board-state"
    state.mkdir()
    first = start_agent(lan, "board", state_dir=state)
    pc = lan.add_host("pc")
    udns = re.findall(r"<UDN>([^<]+)</UDN>", description(pc, first))
    first.stop()
    second = start_agent(lan, "board2", state_dir=state, host=first.host)
    assert re.findall(r"<UDN>([^<]+)</UDN>", description(pc, second)) == udns
    assert boot_id(second) == boot_id(first) + 1
