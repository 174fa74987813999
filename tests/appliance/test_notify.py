"""GENA NOTIFYs (notify.py, notify_server.py, notify_guard.py): only our SIDs, from the
device's address, with capped bodies.

The integration's real notify server listens on 127.0.0.1 (the fake light's address);
NOTIFYs are sent over real HTTP, from 127.0.0.1 (the device) or 127.0.0.2 (another host).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import pytest
import pytest_socket
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.upnp_guard import notify_guard, notify_server
from custom_components.upnp_guard.const import (
    MAX_NOTIFY_BYTES,
    MAX_RESOLVED_ADDRESSES,
    NOTIFY_BACKLOG_MAX,
    NOTIFY_BACKLOG_MAX_AGE_S,
    NOTIFY_CONNECTIONS_MAX,
    NOTIFY_CONNECTIONS_PER_PEER,
)
from custom_components.upnp_guard.notify import notify_server_pool
from custom_components.upnp_guard.notify_server import (
    GuardedNotifyServer,
    async_resolve,
    same_address,
)

from .conftest import SWITCH_POWER, FakeUpnpDevice, entry_for

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations", "ssdp_hub")

LIGHT = "light.hall_light"
DEVICE_ADDRESS = "127.0.0.1"
OTHER_ADDRESS = "127.0.0.2"


def propertyset(**values: str) -> str:
    properties = "".join(
        f"<e:property><{name}>{escape(value)}</{name}></e:property>"
        for name, value in values.items()
    )
    return (
        '<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
        f"{properties}</e:propertyset>"
    )


async def send_notify(
    url: str, sid: str, body: str | bytes, *, source: str = DEVICE_ADDRESS, chunked: bool = False
) -> int:
    """One NOTIFY over real HTTP from `source`; the status it got."""
    pytest_socket.socket_allow_hosts([DEVICE_ADDRESS, OTHER_ADDRESS])
    payload = body.encode() if isinstance(body, str) else body
    data: Any = payload
    if chunked:

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(payload), 8192):
                yield payload[start : start + 8192]

        data = chunks()
    headers = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": "0"}
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.request("NOTIFY", url, headers=headers, data=data) as response,
    ):
        return response.status


def server_of(hass: HomeAssistant) -> GuardedNotifyServer:
    server = notify_server_pool(hass).server_for(DEVICE_ADDRESS)
    assert server is not None
    return server


def switch_sid(device: FakeUpnpDevice) -> str:
    sid = device.state(device.spec.udn, SWITCH_POWER).sid
    assert sid is not None
    return sid


@pytest.mark.usefixtures("init_light")
async def test_event_from_the_device_arrives(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    url = server_of(hass).callback_url
    assert await send_notify(url, switch_sid(light_device), propertyset(Status="1")) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_ON


@pytest.mark.usefixtures("init_light")
async def test_only_notify_is_served(hass: HomeAssistant) -> None:
    pytest_socket.socket_allow_hosts([DEVICE_ADDRESS])
    async with (
        aiohttp.ClientSession() as session,
        session.get(server_of(hass).callback_url) as response,
    ):
        assert response.status == 405


@pytest.mark.usefixtures("init_light")
async def test_unknown_sids_are_refused_and_not_kept(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    """Any host, also the device itself, sends NOTIFYs for SIDs we never got."""
    server = server_of(hass)
    big = propertyset(Status="1") + " " * (MAX_NOTIFY_BYTES // 2)
    statuses = [
        await send_notify(server.callback_url, f"uuid:forged-{n}", big, source=source)
        for n in range(40)
        for source in (DEVICE_ADDRESS, OTHER_ADDRESS)
    ]
    assert set(statuses) == {412}
    assert server.backlog_size == 0
    assert notify_server_pool(hass).counters.unknown_sid == 80
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_OFF
    # The device's own events still arrive.
    assert await send_notify(server.callback_url, switch_sid(light_device), big) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_ON


@pytest.mark.usefixtures("init_light")
async def test_event_from_another_address_is_refused(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    """Whoever learnt our SID (it travels in clear on the LAN) cannot speak for the device."""
    url = server_of(hass).callback_url
    sid = switch_sid(light_device)
    assert await send_notify(url, sid, propertyset(Status="1"), source=OTHER_ADDRESS) == 412
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_OFF
    assert notify_server_pool(hass).counters.wrong_source == 1
    assert await send_notify(url, sid, propertyset(Status="1")) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_ON


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.usefixtures("init_light")
async def test_body_over_the_cap_is_refused(
    hass: HomeAssistant, light_device: FakeUpnpDevice, chunked: bool
) -> None:
    url = server_of(hass).callback_url
    sid = switch_sid(light_device)
    event = propertyset(Status="1")
    over = event + " " * (MAX_NOTIFY_BYTES + 1 - len(event))
    assert await send_notify(url, sid, over, chunked=chunked) == 413
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_OFF
    assert notify_server_pool(hass).counters.too_large == 1
    # Exactly at the cap it is an event like any other.
    assert await send_notify(url, sid, over[:-1], chunked=chunked) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_ON


@pytest.mark.usefixtures("init_light")
async def test_malformed_body_is_refused(hass: HomeAssistant, light_device: FakeUpnpDevice) -> None:
    url = server_of(hass).callback_url
    sid = switch_sid(light_device)
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    for body in ("<e:propertyset", bomb):
        assert await send_notify(url, sid, body) == 400
    assert notify_server_pool(hass).counters.malformed == 2
    assert await send_notify(url, sid, propertyset(Status="1")) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_ON


async def open_trickle(url: str, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection from `source` that starts a NOTIFY and never finishes its headers."""
    pytest_socket.socket_allow_hosts([DEVICE_ADDRESS, OTHER_ADDRESS])
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port), local_addr=(source, 0))
    writer.write(b"NOTIFY /notify HTTP/1.1\r\nHOST: x\r\nNT: upnp:ev")
    await writer.drain()
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader, within: float = 10) -> bool:
    """Whether the server closes the connection (EOF or reset) within `within` seconds."""
    try:
        async with asyncio.timeout(within):
            return await reader.read(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


async def all_closed(server: GuardedNotifyServer) -> None:
    """Wait (bounded) until the server has seen every connection close."""
    for _ in range(200):
        if not server.open_connections:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{server.open_connections} connections still counted")


@pytest.mark.usefixtures("init_light")
async def test_one_host_cannot_hold_every_connection(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    """Connections that never finish their headers: one host gets its share, no more."""
    server = server_of(hass)
    held = [
        await open_trickle(server.callback_url, OTHER_ADDRESS)
        for _ in range(NOTIFY_CONNECTIONS_PER_PEER)
    ]
    try:
        assert server.open_connections == NOTIFY_CONNECTIONS_PER_PEER
        reader, writer = await open_trickle(server.callback_url, OTHER_ADDRESS)
        assert await closed_by_server(reader)
        writer.close()
        assert notify_server_pool(hass).counters.connections_refused == 1
        # The ones it holds are still open; the device's events get through meanwhile.
        assert not await closed_by_server(held[0][0], within=0.2)
        sid = switch_sid(light_device)
        assert await send_notify(server.callback_url, sid, propertyset(Status="1")) == 200
        await hass.async_block_till_done()
        assert hass.states.get(LIGHT).state == STATE_ON
    finally:
        for _, held_writer in held:
            held_writer.close()
    # Closed connections give their places back.
    await all_closed(server)
    reader, writer = await open_trickle(server.callback_url, OTHER_ADDRESS)
    assert not await closed_by_server(reader, within=0.2)
    writer.close()


@pytest.mark.usefixtures("init_light")
async def test_connections_in_all_are_capped(
    hass: HomeAssistant, light_device: FakeUpnpDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many hosts (here one host lifted over its share) cannot exhaust the server."""
    monkeypatch.setattr(notify_guard, "NOTIFY_CONNECTIONS_PER_PEER", NOTIFY_CONNECTIONS_MAX + 1)
    server = server_of(hass)
    held = [
        await open_trickle(server.callback_url, OTHER_ADDRESS)
        for _ in range(NOTIFY_CONNECTIONS_MAX)
    ]
    try:
        reader, writer = await open_trickle(server.callback_url, DEVICE_ADDRESS)
        assert await closed_by_server(reader)
        writer.close()
        assert notify_server_pool(hass).counters.connections_refused == 1
    finally:
        for _, held_writer in held:
            held_writer.close()
    await all_closed(server)
    assert (
        await send_notify(server.callback_url, switch_sid(light_device), propertyset(Status="1"))
        == 200
    )


@pytest.mark.usefixtures("init_light")
async def test_a_trickling_connection_is_cut_at_its_deadline(
    hass: HomeAssistant, light_device: FakeUpnpDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify_guard, "NOTIFY_CONNECTION_MAX_S", 0.5)
    server = server_of(hass)
    reader, writer = await open_trickle(server.callback_url, OTHER_ADDRESS)
    for _ in range(5):  # a byte now and then keeps aiohttp waiting for the headers
        writer.write(b"e")
        await writer.drain()
        await asyncio.sleep(0.05)
    assert await closed_by_server(reader)
    writer.close()
    assert notify_server_pool(hass).counters.connections_expired == 1
    assert server.open_connections == 0
    assert (
        await send_notify(server.callback_url, switch_sid(light_device), propertyset(Status="1"))
        == 200
    )


@pytest.fixture
async def early_notifies(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, light_device: FakeUpnpDevice
) -> AsyncGenerator[dict[str, list[int]]]:
    """Set the light up; before answering its first SUBSCRIBE, the light (and another
    host) send NOTIFYs: for the SID it is about to grant, and for others."""
    statuses: dict[str, list[int]] = {"granted": [], "other_host": [], "others": []}
    original = light_device._gena

    async def gena(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        headers = aioclient_mock.mock_calls[-1][3] or {}
        answer = await original(method, url, data)
        if method.upper() != "SUBSCRIBE" or "CALLBACK" not in headers or statuses["granted"]:
            return answer
        callback = headers["CALLBACK"].strip("<>")
        sid = answer.headers["SID"]
        event = propertyset(Status="1")
        statuses["other_host"].append(await send_notify(callback, sid, event, source=OTHER_ADDRESS))
        statuses["granted"].append(await send_notify(callback, sid, event))
        for n in range(NOTIFY_BACKLOG_MAX + 2):
            statuses["others"].append(await send_notify(callback, f"uuid:early-{n}", event))
        return answer

    for mock in aioclient_mock._mocks:
        if mock.method == "SUBSCRIBE":
            mock.side_effect = gena
    entry: MockConfigEntry = entry_for(light_device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield statuses
    await hass.config_entries.async_unload(entry.entry_id)


async def test_event_before_the_subscribe_answer_is_replayed(
    hass: HomeAssistant, early_notifies: dict[str, list[int]]
) -> None:
    """UDA lets the initial event overtake the SUBSCRIBE answer: it is kept for that
    device only, a bounded number of them, and replayed once the SID is known."""
    assert early_notifies["other_host"] == [412]
    assert early_notifies["granted"] == [200]
    # The backlog holds NOTIFY_BACKLOG_MAX: the granted one and MAX - 1 others.
    others = early_notifies["others"]
    assert others == [200] * (NOTIFY_BACKLOG_MAX - 1) + [412] * 3
    # No initial events were sent otherwise: the light is on from the replayed one.
    assert hass.states.get(LIGHT).state == STATE_ON
    counters = notify_server_pool(hass).counters
    assert counters.backlog_replayed == 1
    # The others went when the subscription they waited for was answered.
    assert counters.backlog_dropped == NOTIFY_BACKLOG_MAX - 1
    assert server_of(hass).backlog_size == 0


async def test_backlog_ages(
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
    aioclient_mock: AiohttpClientMocker,
    light_device: FakeUpnpDevice,
) -> None:
    """An early NOTIFY older than NOTIFY_BACKLOG_MAX_AGE_S is gone when its SID comes."""
    now = [1000.0]
    monkeypatch.setattr(notify_server, "monotonic", lambda: now[0])
    original = light_device._gena
    replies: list[int] = []

    async def gena(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        headers = aioclient_mock.mock_calls[-1][3] or {}
        answer = await original(method, url, data)
        if method.upper() == "SUBSCRIBE" and "CALLBACK" in headers and not replies:
            callback = headers["CALLBACK"].strip("<>")
            replies.append(
                await send_notify(callback, answer.headers["SID"], propertyset(Status="1"))
            )
            now[0] += NOTIFY_BACKLOG_MAX_AGE_S + 1
        return answer

    for mock in aioclient_mock._mocks:
        if mock.method == "SUBSCRIBE":
            mock.side_effect = gena
    entry = entry_for(light_device)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert replies == [200]
    # Nothing was delivered: the light has had no event at all.
    assert hass.states.get(LIGHT).state != STATE_ON
    assert notify_server_pool(hass).counters.backlog_replayed == 0
    assert notify_server_pool(hass).counters.backlog_dropped == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_device_added_by_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typed host name: events must come from an address it resolved to."""
    names = {"lamp.home": frozenset({"192.168.1.30"})}
    assert same_address("lamp.home", "192.168.1.30", names)
    assert not same_address("lamp.home", "192.168.1.31", names)
    assert not same_address("other.home", "192.168.1.30", names)  # never resolved
    assert same_address("fe80::1%eth0", "fe80::1", names)
    assert not same_address("192.168.1.30", None, names)
    # Tests resolve no names: the loop's resolver answers as a LAN's DNS would.
    loop = asyncio.get_running_loop()

    async def getaddrinfo(host: str, *_: Any) -> list[tuple[Any, ...]]:
        if host != "lamp.home":
            raise OSError("no such name")
        return [
            (2, 1, 6, "", (f"192.168.1.{30 + n}", 0)) for n in range(MAX_RESOLVED_ADDRESSES + 3)
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    resolved = await async_resolve("lamp.home")
    assert "192.168.1.30" in resolved
    assert len(resolved) == MAX_RESOLVED_ADDRESSES
    assert await async_resolve("name.invalid") == frozenset()
