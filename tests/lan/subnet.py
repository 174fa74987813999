"""A second LAN network for the simulated LAN (an IoT VLAN, say), routed by the router.

`add_second_network(lan, host)` adds a bridge of its own in the switch namespace, a
random private /24 on it (never the LAN's or the WAN's), the router's `eth1` at .1 on it
and `eth1` of `host` at .10: the host then has an address on another network than the
LAN's devices. Its packets to LAN devices leave through eth0 (the LAN is on-link) with
whichever source address its socket is bound to; the devices' replies to the second
network go through their default route, the router, which forwards them to eth1.

The router forwards between the two networks: miniupnpd's init script sets the forward
chain's policy to drop, so `allow_forwarding(router)` inserts accept rules for eth1 there
(called here; call it again after restarting miniupnpd, whose init script rebuilds the
table).

Reverse-path filtering is loose on that host (rp_filter=2, systemd's default): a reply
from a LAN device arriving on eth1 is accepted because the device is reachable (on eth0).
"""

from __future__ import annotations

import ipaddress
import secrets

from .core import Host, Lan, Router

SECOND_BRIDGE = "lan2"
SECOND_IFNAME = "eth1"


def add_second_network(lan: Lan, host: Host) -> ipaddress.IPv4Interface:
    """Give `host` an address on a second network routed by `lan`'s router; that address
    (with its network). Needs the router (Lan.add_router)."""
    if lan.router is None:
        raise ValueError("the second network is routed by the router: add it first")
    network = ipaddress.IPv4Network(f"192.168.{1 + secrets.randbelow(250)}.0/24")
    lan._ip_in(lan.switch, "link", "add", SECOND_BRIDGE, "type", "bridge")
    lan._ip_in(lan.switch, "link", "set", SECOND_BRIDGE, "up")
    gateway = network.network_address + 1
    address = ipaddress.IPv4Interface(f"{network.network_address + 10}/{network.prefixlen}")
    lan._plug(lan.router.netns, SECOND_BRIDGE, SECOND_IFNAME, str(gateway), network.prefixlen)
    lan._plug(host.netns, SECOND_BRIDGE, SECOND_IFNAME, str(address.ip), network.prefixlen)
    for key in ("all", "default", SECOND_IFNAME):
        host.run("sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=2")
    allow_forwarding(lan.router)
    return address


def allow_forwarding(router: Router) -> None:
    """Let the router forward to and from the second network (before any drop)."""
    for direction in ("iifname", "oifname"):
        router.run(
            "nft", "insert", "rule", "inet", "filter", "forward", direction, SECOND_IFNAME, "accept"
        )
