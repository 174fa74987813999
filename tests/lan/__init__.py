"""Simulated LAN for end-to-end tests: network namespaces joined by bridges.

Layout of one `Lan` (all names carry a per-run id, so parallel runs never collide)::

    switch namespace  ug<id>-sw : bridge "lan" (LAN /24) and bridge "wan" (WAN /24)
    host namespaces   ug<id>-<name> : eth0 on the LAN bridge, default route via the router
    router namespace  ug<id>-router : eth0 on LAN (.1), wan0 on WAN (.2), forwarding on
    isp namespace     ug<id>-isp : eth0 on WAN (.1), the router's upstream

Every address lives inside namespaces this module created; nothing is routed to the
host's own network. `Lan.close()` kills every process started through it and deletes
every namespace, and the pytest fixtures in `tests/lan/fixtures.py` call it also when a
test fails.

Typical use (see tests/test_smoke_lan.py)::

    def test_x(lan: Lan) -> None:
        router = lan.add_router(secure_mode=True)
        pc = lan.add_host("pc")
        out = pc.run("upnpc", "-l").stdout
"""

from __future__ import annotations

from .core import LAN_PREFIX_LEN, SSDP_GROUP, SSDP_PORT, UPNP_CLIENT, Host, Lan, Process, Router

__all__ = [
    "LAN_PREFIX_LEN",
    "SSDP_GROUP",
    "SSDP_PORT",
    "UPNP_CLIENT",
    "Host",
    "Lan",
    "Process",
    "Router",
]
