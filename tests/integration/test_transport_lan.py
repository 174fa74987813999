"""Attacks on HTTP to and from devices, on the simulated LAN, with a real agent.

- An attacker host sends NOTIFYs to Home Assistant's notify server: unknown SIDs with
  big bodies, the real SID of a subscription (it travels in clear on the LAN) from its own
  address, and a body over the cap. All are refused; the agent's events still arrive.
- A rogue device on a LAN host redirects its description to a server on Home Assistant's
  loopback, and serves an SCPD without end. Neither is followed nor read to the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import pytest_socket
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant

from custom_components.upnp_guard.appliance.const import BINARY_INPUT
from custom_components.upnp_guard.const import CONF_LOCATION, DOMAIN, MAX_NOTIFY_BYTES
from custom_components.upnp_guard.notify import notify_server_pool
from tests.lan import Host, Lan
from tests.lan.agent import start_agent
from tests.lan.waits import wait_for

from .test_agent_lan import SENSOR_CONFIG, discover_and_add, in_thread, state_of, unload_and_stop

pytestmark = pytest.mark.lan

ROGUE = str(Path(__file__).parents[1] / "lan" / "rogue_device.py")
FORGED_NOTIFIES = 50
METADATA = "169.254.169.254"

# Sends NOTIFYs (argv: callback URL; stdin: JSON [[sid, body, declared_length|null]])
# and prints the statuses as JSON. A declared length over the body sends the headers and
# the body only: a server that reads no further answers at once.
NOTIFY_SCRIPT = r"""
import http.client, json, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
statuses = []
for sid, body, declared in json.loads(sys.stdin.read()):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    data = body.encode()
    headers = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": "1",
               "Content-Type": 'text/xml; charset="utf-8"',
               "Content-Length": str(declared if declared is not None else len(data))}
    try:
        conn.request("NOTIFY", url.path, body=data, headers=headers)
        statuses.append(conn.getresponse().status)
    except OSError as err:
        statuses.append(repr(err))
    conn.close()
print(json.dumps(statuses))
"""


def propertyset(**values: str) -> str:
    properties = "".join(f"<e:property><{k}>{v}</{k}></e:property>" for k, v in values.items())
    return (
        '<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
        f"{properties}</e:propertyset>"
    )


def send_notifies(
    host: Host, callback_url: str, notifies: list[tuple[str, str, int | None]]
) -> list[object]:
    result = host.run(sys.executable, "-c", NOTIFY_SCRIPT, callback_url, input=json.dumps(notifies))
    statuses: list[object] = json.loads(result.stdout)
    return statuses


async def test_attacker_notifies_are_refused_and_agent_events_arrive(
    ha_host: Host, lan: Lan, attacker: Host, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    agent = start_agent(lan, "hall", SENSOR_CONFIG)
    entry = await discover_and_add(hass, agent)
    connection = entry.runtime_data
    callback_url = connection.event_handler.callback_url
    window_sid = next(
        sid
        for sid, sub in connection.subscriptions.items()
        if sub.service.service_type == BINARY_INPUT
    )
    await wait_for(lambda: state_of(hass, "binary_sensor.window_input") == STATE_OFF, "baseline")
    closed = propertyset(State="1")
    padded = closed + " " * (MAX_NOTIFY_BYTES // 2)

    # Unknown SIDs with big bodies: nothing is read or kept.
    unknown = [(f"uuid:forged-{n}", padded, None) for n in range(FORGED_NOTIFIES)]
    assert await in_thread(send_notifies, attacker, callback_url, unknown) == (
        [412] * FORGED_NOTIFIES
    )
    # The real SID, sniffed, from the attacker's address; and a body over the cap.
    assert await in_thread(send_notifies, attacker, callback_url, [(window_sid, closed, None)]) == [
        412
    ]
    over = [(window_sid, closed, 1024 * 1024 * 1024)]
    assert await in_thread(send_notifies, attacker, callback_url, over) == [412]
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.window_input") == STATE_OFF
    counters = notify_server_pool(hass).counters
    assert counters.unknown_sid == FORGED_NOTIFIES
    assert counters.wrong_source == 2  # refused on its headers: the 1 GiB was never read
    server = notify_server_pool(hass).server_for(connection.local_ip)
    assert server is not None
    assert server.backlog_size == 0

    # The agent's own events still arrive, both ways.
    await in_thread(agent.set_input, "window", closed=True)
    await wait_for(lambda: state_of(hass, "binary_sensor.window_input") == STATE_ON, "closed")
    await in_thread(agent.set_sensor, "climate", temperature=21.5, humidity=40.0)
    await wait_for(lambda: state_of(hass, "sensor.climate_temperature") == "21.5", "reading")

    await unload_and_stop(hass, entry, agent)


async def test_rogue_device_redirect_and_endless_scpd(
    ha_host: Host, lan: Lan, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    # What the redirect aims at: the cloud instance metadata address, link-local, which
    # Home Assistant's own redirect guard (loopback only) lets through. Here it is a
    # server on the Home Assistant host itself.
    ha_host.run("ip", "addr", "add", f"{METADATA}/32", "dev", "lo")
    pytest_socket.socket_allow_hosts(
        [str(lan.lan_net), str(lan.wan_net), "127.0.0.1", METADATA], allow_unix_socket=True
    )
    inside = ha_host.start(sys.executable, ROGUE, METADATA, "8099", label="inside")
    inside.wait_for_output("listening")
    rogue_host = lan.add_host("rogue")
    rogue = rogue_host.start(
        sys.executable, ROGUE, rogue_host.ip, "8080", f"http://{METADATA}:8099/secret.xml"
    )
    rogue.wait_for_output("listening")
    base = f"http://{rogue_host.ip}:8080"

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: f"{base}/redirect.xml"}
    )
    assert result["errors"] == {"base": "not_upnp"}
    assert "GET /redirect.xml" in rogue.output()
    assert "GET" not in inside.output()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: f"{base}/huge.xml"}
    )
    assert result["errors"] == {"base": "malformed_description"}
    # In a thread: the loop closes the socket we stopped reading.
    sent = int((await in_thread(rogue.wait_for_output, r"sent (\d+)")).group(1))
    # Reading stopped at the cap; the rest is what socket buffers took meanwhile.
    assert sent < 64 * 1024 * 1024
    print(f"rogue SCPD: {sent} bytes written before Home Assistant hung up")
    hass.config_entries.flow.async_abort(result["flow_id"])
