"""Smoke tests: each real part of the simulated LAN works (issue: Foundation).

These fail if micropython, miniupnpd, nftables, upnpc or gssdp-discover are missing or
broken, or if the LAN does not carry multicast between namespaces.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.lan import UPNP_CLIENT, Lan, Router

pytestmark = pytest.mark.lan

MP_LISTENER = Path(__file__).parent / "lan" / "mp_ssdp_listener.py"


def test_micropython_receives_multicast_msearch(lan: Lan) -> None:
    device = lan.add_host("device")
    searcher = lan.add_host("searcher")
    listener = device.start("micropython", str(MP_LISTENER), device.ip)
    listener.wait_for_output(r"listening", timeout=10)
    # A real third-party control point sends the M-SEARCH from another namespace.
    searcher.run("gssdp-discover", "-i", "eth0", "--timeout=2", check=False, timeout=20)
    match = listener.wait_for_output(r"FROM (\S+):\d+\n(M-SEARCH \* HTTP/1.1[^\n]*)", timeout=5)
    assert match.group(1) == searcher.ip
    received = listener.output()
    assert re.search(r"(?im)^MAN: *\"ssdp:discover\"", received)
    assert re.search(r"(?im)^HOST: *239\.255\.255\.250:1900", received)


def test_msearch_does_not_cross_into_other_lan(lan: Lan) -> None:
    """The WAN host is on another segment: multicast from it never reaches the LAN."""
    lan.add_router()
    device = lan.add_host("device")
    listener = device.start("micropython", str(MP_LISTENER), device.ip)
    listener.wait_for_output(r"listening", timeout=10)
    lan.hosts["isp"].run("gssdp-discover", "-i", "eth0", "--timeout=1", check=False, timeout=20)
    # The LAN host itself searches afterwards, so we know the listener was live.
    lan.add_host("pc").run("gssdp-discover", "-i", "eth0", "--timeout=1", check=False, timeout=20)
    listener.wait_for_output(r"FROM ", timeout=5)
    senders = re.findall(r"FROM (\S+):", listener.output())
    assert senders
    assert lan.hosts["isp"].ip not in senders
    assert set(senders) == {lan.hosts["pc"].ip}


def test_miniupnpd_lists_and_maps_in_nftables(router: Router, lan: Lan) -> None:
    pc = lan.add_host("pc")
    listing = pc.run("upnpc", "-u", router.description_url, "-l").stdout
    assert f"Found valid IGD : http://{router.ip}:{router.http_port}/ctl/IPConn" in listing
    assert "Status : Connected" in listing
    assert f"ExternalIPAddress = {router.wan_ip}" in listing
    assert "Local LAN ip address : " + pc.ip in listing

    before = router.nft_ruleset()
    assert "18080" not in before
    added = pc.run(
        "upnpc",
        "-u",
        router.description_url,
        "-e",
        "smoke test",
        "-a",
        pc.ip,
        "8080",
        "18080",
        "TCP",
        "3600",
    ).stdout
    assert "is redirected to internal" in added
    ruleset = router.nft_ruleset()
    assert re.search(rf"dport 18080 .*dnat ip to {re.escape(pc.ip)}:8080", ruleset), ruleset
    listing = pc.run("upnpc", "-u", router.description_url, "-l").stdout
    assert re.search(
        rf"TCP\s+18080->{re.escape(pc.ip)}:8080\s+'smoke test' '' 3\d{{3}}", listing
    ), listing


def test_secure_mode_refuses_mapping_for_another_host(router: Router, lan: Lan) -> None:
    attacker = lan.add_host("attacker")
    victim = lan.add_host("victim")
    result = attacker.run(
        "upnpc",
        "-u",
        router.description_url,
        "-e",
        "evil",
        "-a",
        victim.ip,
        "445",
        "14445",
        "TCP",
        "0",
        check=False,
    )
    assert "failed with code 606" in result.stdout + result.stderr, result.stdout
    assert "14445" not in router.nft_ruleset()
    listing = attacker.run("upnpc", "-u", router.description_url, "-l").stdout
    assert "14445" not in listing


def test_async_upnp_client_cli_calls_router_action(router: Router, lan: Lan) -> None:
    """async-upnp-client's `upnp-client` (a third-party control point) works on the LAN."""
    pc = lan.add_host("pc")
    result = pc.run(
        *UPNP_CLIENT,
        "--strict",
        "call-action",
        router.description_url,
        "WANIPConn1/GetExternalIPAddress",
    )
    payload = json.loads(result.stdout)
    assert payload["out_parameters"]["NewExternalIPAddress"] == router.wan_ip
