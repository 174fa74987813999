"""pytest fixtures for the simulated LAN (registered by tests/conftest.py).

- `lan`: a fresh `Lan` per test, closed (processes killed, namespaces deleted) even when
  the test fails; on failure the tail of every process log is printed.
- `router`: `lan` plus a router namespace running miniupnpd (secure mode, IGD:2).
- `attacker`: a hostile host on the LAN.
- `ha_host`: a LAN host for Home Assistant. The test's main thread (where Home
  Assistant's event loop runs and opens its sockets) is moved into that namespace, and
  Home Assistant's network integration is told the host's address. Request it *before*
  `hass` so that Home Assistant's threads are created inside the namespace too.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any
from unittest.mock import Mock, patch

import pytest
import pytest_socket

from .core import Host, Lan, Router


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"lan_report_{report.when}", report)


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"lan_report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


@pytest.fixture
def lan(request: pytest.FixtureRequest) -> Generator[Lan]:
    network = Lan()
    try:
        yield network
    finally:
        if _failed(request):
            for path in sorted(network.workdir.glob("*.log")):
                print(f"----- {path.name} (last 4 kB) -----")
                print(path.read_text(errors="replace")[-4096:])
        network.close()


@pytest.fixture
def router(lan: Lan) -> Router:
    gateway = lan.add_router()
    gateway.start_miniupnpd(secure_mode=True)
    return gateway


@pytest.fixture
def attacker(lan: Lan) -> Host:
    """A hostile machine on the same LAN segment."""
    return lan.add_host("attacker")


@pytest.fixture
def ha_host(lan: Lan, socket_enabled: None) -> Generator[Host]:
    host = lan.add_host("ha")
    # Home Assistant may connect inside the simulated networks only (and to loopback,
    # which Home Assistant's own test fixtures use).
    pytest_socket.socket_allow_hosts(
        [str(lan.lan_net), str(lan.wan_net), "127.0.0.1"], allow_unix_socket=True
    )
    adapters = [
        {
            "auto": True,
            "default": True,
            "enabled": True,
            "index": 0,
            "ipv4": [{"address": host.ip, "network_prefix": host.network.prefixlen}],
            "ipv6": [],
            "name": "eth0",
        }
    ]
    ifaddr_adapter = Mock(
        nice_name="eth0",
        ips=[Mock(is_IPv6=False, ip=host.ip, network_prefix=host.network.prefixlen)],
        index=0,
    )
    with (
        host.entered(),
        patch("homeassistant.components.network.async_get_loaded_adapters", return_value=adapters),
        patch(
            "homeassistant.components.network.util.ifaddr.get_adapters",
            return_value=[ifaddr_adapter],
        ),
        patch("homeassistant.components.network.util.async_get_source_ip", return_value=host.ip),
    ):
        yield host
