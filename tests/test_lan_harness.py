"""The simulated LAN cleans up after itself and stays sealed off from the host."""

from __future__ import annotations

import subprocess

import pytest

from tests.lan import Lan

pytestmark = pytest.mark.lan


def _namespaces() -> str:
    return subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=True
    ).stdout


def _failing_body(lan: Lan) -> None:
    host = lan.add_host("pc")
    host.start("sleep", "60")
    # A process the harness did not start itself, left running in the namespace.
    host.run("sh", "-c", "sleep 60 >/dev/null 2>&1 &")
    assert lan.prefix in _namespaces()
    raise RuntimeError("test body failed")


def test_everything_is_torn_down_when_a_test_body_fails() -> None:
    lan = Lan()
    prefix = lan.prefix
    with pytest.raises(RuntimeError, match="test body failed"), lan:
        _failing_body(lan)
    assert prefix not in _namespaces()
    assert not lan.hosts
    stray = subprocess.run(
        ["pgrep", "-f", "^sleep 60$"], capture_output=True, text=True, check=False
    )
    assert stray.stdout.strip() == ""


def test_names_are_unique_per_run() -> None:
    with Lan() as first, Lan() as second:
        assert first.prefix != second.prefix
        first.add_host("pc")
        second.add_host("pc")
        assert first.hosts["pc"].netns != second.hosts["pc"].netns


def test_lan_hosts_have_no_route_out_of_the_simulation(lan: Lan) -> None:
    router = lan.add_router()
    pc = lan.add_host("pc")
    # The only ways out of a LAN host lead to the router, and from the router to the
    # simulated ISP, which has no route anywhere else.
    assert f"default via {router.ip} dev eth0" in pc.run("ip", "route").stdout
    isp_routes = lan.hosts["isp"].run("ip", "route").stdout
    assert "default" not in isp_routes
    for host in (pc, router, lan.hosts["isp"]):
        links = host.run("ip", "-o", "link").stdout
        assert all(name in ("lo", "eth0", "wan0") for name in _link_names(links)), links


def _link_names(ip_o_link: str) -> list[str]:
    return [line.split(":")[1].strip().split("@")[0] for line in ip_o_link.splitlines()]
