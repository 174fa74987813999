# The agent core: the request pipeline (Host check against DNS rebinding, routes,
# methods), the description's content, identity stability, config errors, and the verbs
# the shell drives.
from upnpguard import description, devices

from corehelpers import (
    CLIENT_IP,
    CONFIG,
    HOST,
    SERIAL,
    body_text,
    call,
    make_agent,
    parse,
    raises,
    request,
    service,
    subscribe,
)


def _desc(agent):
    response = agent.handle_request(request("GET", "/desc.xml"), CLIENT_IP)
    assert response.status == 200
    return body_text(response)


def test_host_header_must_be_agent_address():
    agent = make_agent()
    for host in (None, "evil.example:49152", "10.1.2.20", "10.1.2.20:80", "localhost:49152"):
        assert (
            agent.handle_request(request("GET", "/desc.xml", host=host), CLIENT_IP).status == 400
        ), host
    assert agent.stats()["refused"] == {"400": 5}
    _desc(agent)


def test_unknown_path_404_and_wrong_method_405():
    agent = make_agent()
    assert agent.handle_request(request("GET", "/nope"), CLIENT_IP).status == 404
    assert agent.handle_request(request("GET", "/desc.xml?x"), CLIENT_IP).status == 404
    response = agent.handle_request(request("POST", "/desc.xml", body=b"x"), CLIENT_IP)
    assert response.status == 405
    svc = service(agent, "relay", "SwitchPower")
    assert agent.handle_request(request("GET", svc.control_path), CLIENT_IP).status == 405
    assert agent.handle_request(request("GET", svc.event_path), CLIENT_IP).status == 405
    # Guessing the control URL without its random component finds nothing.
    guessed = "/1/" + "0" * 10 + "/ctl/SwitchPower"
    assert agent.handle_request(request("POST", guessed, body=b"x"), CLIENT_IP).status == 404
    _desc(agent)


def test_description_follows_the_contract():
    agent = make_agent()
    text = _desc(agent)
    for needle in (
        f'<root xmlns="urn:schemas-upnp-org:device-1-0" configId="{agent.config_id}">',
        "<deviceType>urn:upnp-guard-org:device:Agent:1</deviceType>",
        "<manufacturer>UPnP Guard</manufacturer>",
        "<modelName>UPnP Guard Agent</modelName>",
        "<modelNumber>0.1.0</modelNumber>",
        f"<serialNumber>{SERIAL}</serialNumber>",
        "<serviceType>urn:upnp-guard-org:service:AgentInfo:1</serviceType>",
        "<serviceId>urn:upnp-guard-org:serviceId:AgentInfo</serviceId>",
        "<deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>",
        "<deviceType>urn:schemas-upnp-org:device:DimmableLight:1</deviceType>",
        "<deviceType>urn:upnp-guard-org:device:Sensor:1</deviceType>",
        "<deviceType>urn:upnp-guard-org:device:Input:1</deviceType>",
        "<serviceId>urn:upnp-org:serviceId:Dimming</serviceId>",
        "<serviceId>urn:upnp-org:serviceId:TemperatureSensor</serviceId>",
        "<serviceId>urn:upnp-guard-org:serviceId:HumiditySensor</serviceId>",
        "<serviceId>urn:upnp-guard-org:serviceId:BinaryInput</serviceId>",
        "<friendlyName>Doorbell</friendlyName>",
        "<SCPDURL>/scpd/SwitchPower.xml</SCPDURL>",
    ):
        assert needle in text, needle
    assert text.count("<UDN>uuid:") == 6
    # Control and event URLs carry the per-device random component.
    svc = service(agent, "relay", "SwitchPower")
    assert f"<controlURL>{svc.control_path}</controlURL>" in text
    assert svc.device.token in svc.control_path
    assert svc.device.token in svc.event_path


def test_scpds_are_served_and_match_the_model():
    agent = make_agent()
    response = agent.handle_request(request("GET", "/scpd/Dimming.xml"), CLIENT_IP)
    text = body_text(response)
    assert response.status == 200
    assert "<name>SetLoadLevelTarget</name>" in text
    assert (
        '<stateVariable sendEvents="yes"><name>LoadLevelStatus</name><dataType>ui1</dataType>'
        in text
    )
    assert "<minimum>0</minimum><maximum>100</maximum><step>1</step>" in text
    info = body_text(agent.handle_request(request("GET", "/scpd/AgentInfo.xml"), CLIENT_IP))
    assert "<allowedValue>open</allowedValue><allowedValue>paired</allowedValue>" in info
    head = agent.handle_request(request("HEAD", "/scpd/Dimming.xml"), CLIENT_IP)
    assert head.status == 200
    assert body_text(head) == ""


def test_identity_is_stable_and_config_id_tracks_content():
    first = make_agent()
    second = make_agent()
    assert first.root.udn == second.root.udn
    assert [d.udn for d in first.root.all_devices()] == [d.udn for d in second.root.all_devices()]
    assert first.config_id == second.config_id
    assert 0 <= first.config_id <= 0xFFFFFF
    changed = {"security_mode": "open", "services": CONFIG["services"][:2]}
    assert make_agent(changed).config_id != first.config_id
    udns = [d.udn for d in first.root.all_devices()]
    assert len(set(udns)) == len(udns)


def test_get_info_reports_agent_state():
    agent = make_agent()
    agent.clock.advance(42_999)  # uptime in whole seconds since the core was built
    info = agent.root.services[0]
    text = body_text(call(agent, info, "GetInfo"))
    for needle in (
        "<FirmwareVersion>0.1.0</FirmwareVersion>",
        "<BootId>7</BootId>",
        "<SecurityMode>open</SecurityMode>",
        "<Uptime>42</Uptime>",
    ):
        assert needle in text, needle


def test_bad_configs_are_refused():
    for config in (
        {"services": [{"kind": "toaster", "name": "x", "pin": 1}]},
        {"services": [{"kind": "switch", "name": "x"}]},
        {"services": [{"kind": "switch", "pin": 1}]},
        {
            "services": [
                {"kind": "switch", "name": "x", "pin": 1},
                {"kind": "switch", "name": "x", "pin": 2},
            ]
        },
        {"services": "nope"},
        # Paired mode (the default) without a key: refusing beats running open silently.
        {"security_mode": "paired", "services": []},
        {"services": []},
        {"security_mode": "none", "services": []},
    ):
        raises(devices.ConfigError, make_agent, config)
    assert make_agent({"security_mode": "open", "services": []}).udn.startswith("uuid:")


def test_description_chunks_are_small():
    agent = make_agent()
    chunks = list(description.device_description(agent.root, "s", 1))
    assert max(len(c) for c in chunks) < 600


def test_documents_have_the_right_length_every_time_and_head_tells_it():
    agent = make_agent()
    for path in ("/desc.xml", service(agent, "relay", "SwitchPower").scpd_path):
        lengths = []
        for _ in range(2):
            response = agent.handle_request(request("GET", path), CLIENT_IP)
            assert response.status == 200
            body = b"".join(response.chunks())
            assert response.content_length() == len(body), path
            lengths.append(response.content_length())
        assert lengths[0] == lengths[1]
        head = agent.handle_request(request("HEAD", path), CLIENT_IP)
        assert head.status == 200
        assert head.content_length() == lengths[0]
        assert list(head.chunks()) == []


def test_a_repeated_header_is_answered_400_by_the_pipeline():
    # Found by fuzz/fuzz_agent.py: handle() let the HttpError of a repeated header out
    # (the shell caught it; the core now answers like for every other rule).
    agent = make_agent()
    raw = b"GET /desc.xml HTTP/1.1\r\nHOST: " + HOST.encode() + b"\r\nHOST: x\r\n\r\n"
    response = agent.handle_request(parse(raw), CLIENT_IP)
    assert response.status == 400
    assert agent.stats()["refused"] == {"400": 1}
    assert agent.handle_request(request("GET", "/desc.xml"), CLIENT_IP).status == 200


def test_the_board_config_sets_port_and_callback_rule():
    agent = make_agent(
        {"security_mode": "open", "http_port": 8080, "services": CONFIG["services"][:1]}
    )
    assert agent.location == "http://10.1.2.20:8080/desc.xml"
    # The Host check follows the port: the default one is now another host.
    assert agent.handle_request(request("GET", "/desc.xml"), CLIENT_IP).status == 400
    ok = request("GET", "/desc.xml", host="10.1.2.20:8080")
    assert agent.handle_request(ok, CLIENT_IP).status == 200
    relay = service(agent, "relay", "SwitchPower")
    other = "<http://10.1.2.31:8123/notify>"
    raw = f"SUBSCRIBE {relay.event_path} HTTP/1.1\r\nHOST: 10.1.2.20:8080\r\nNT: upnp:event\r\n"
    raw += f"CALLBACK: {other}\r\n\r\n"
    assert agent.handle_request(parse(raw.encode()), CLIENT_IP).status == 412
    config = {
        "security_mode": "open",
        "allow_other_callback_hosts": True,
        "services": CONFIG["services"][:1],
    }
    agent = make_agent(config)
    relay = service(agent, "relay", "SwitchPower")
    assert subscribe(agent, relay, callback=other).status == 200


def test_refusals_before_the_pipeline_are_answered_and_counted():
    agent = make_agent()
    response = agent.refuse(503, [("RETRY-AFTER", "1")])
    assert response.status == 503
    assert response.headers == [("RETRY-AFTER", "1")]
    assert agent.refuse(431).status == 431
    assert agent.stats()["refused"] == {"503": 1, "431": 1}
    # The pipeline counts its own refusals in the same table; a 200 is not counted.
    assert agent.handle_request(request("GET", "/nope"), CLIENT_IP).status == 404
    _desc(agent)
    assert agent.stats()["refused"] == {"503": 1, "431": 1, "404": 1}


def test_a_written_subscribe_response_wakes_the_shell_for_the_initial_event():
    agent = make_agent()
    woken = []
    agent.listen(lambda: woken.append(1), None)
    doorbell = service(agent, "doorbell", "BinaryInput")
    response = subscribe(agent, doorbell)
    assert woken == []  # nothing to send before the response went out
    response.after(True)
    assert woken == [1]
    assert len(list(agent.notifications())) == 1
    # A response that could not be written wakes nobody: the subscription is gone.
    lamp = service(agent, "lamp", "Dimming")
    subscribe(agent, lamp).after(False)
    assert woken == [1]
    assert list(agent.notifications()) == []


def test_ssdp_verbs_answer_a_search_and_announce():
    agent = make_agent()
    search = b'M-SEARCH * HTTP/1.1\r\nHOST: 10.1.2.20:1900\r\nMAN: "ssdp:discover"\r\n'
    agent.handle_datagram(search + b"ST: upnp:rootdevice\r\n\r\n", CLIENT_IP, 40000)
    assert agent.next_deadline_ms() == 0  # unicast: at once
    [(ip, port, datagram)] = list(agent.outgoing())
    assert (ip, port) == (CLIENT_IP, 40000)
    assert b"\r\nLOCATION: " + agent.location.encode() + b"\r\n" in datagram
    assert agent.next_deadline_ms() is None
    assert agent.stats()["ssdp_sources"] == 1
    alive = list(agent.announcements("alive"))
    byebye = list(agent.announcements("byebye"))
    assert len(alive) == len(byebye) == 21  # the reference board's targets
    assert all(b"NTS: ssdp:alive" in d for d in alive)
    assert all(b"NTS: ssdp:byebye" in d for d in byebye)


def test_hal_readings_reach_the_services_clamped():
    agent = make_agent()
    temperature = service(agent, "climate", "TemperatureSensor")
    humidity = service(agent, "climate", "HumiditySensor")
    agent.hal.sensors["climate"](2150, 4000)
    assert (temperature.get("CurrentTemperature"), humidity.get("CurrentHumidity")) == (2150, 4000)
    agent.hal.sensors["climate"](None, 20000)  # None keeps a value; %RH tops out at 100.00
    assert (temperature.get("CurrentTemperature"), humidity.get("CurrentHumidity")) == (2150, 10000)
    agent.hal.sensors["climate"](-99999, None)  # not below absolute zero
    assert temperature.get("CurrentTemperature") == -27315
    window = service(agent, "window", "BinaryInput")
    agent.hal.inputs["window"](1)
    agent.hal.inputs["window"](1)  # no change: no count
    assert (window.get("State"), window.get("PressCount")) == (True, 1)
