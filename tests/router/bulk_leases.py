"""Fill a miniupnpd router with many mappings quickly, through miniupnpd's lease file.

miniupnpd's nftables backend re-reads its whole chain for every mapping it adds, so adding
N mappings over UPnP costs O(N^2): measured here, 384 AddPortMapping calls took 332 s and
500 would take about ten minutes. Restoring them from the lease file at start-up (what
the daemon does after a reboot) goes through the same upnp_redirect() per entry, without
the per-request HTTP and eventing work, and takes about four and a half minutes for 500.
"""

from __future__ import annotations

import time

from tests.lan import Host, Lan, Router

LEASE = 3600
# The daemon restores every lease before it serves HTTP.
RESTORE_TIMEOUT = 900.0


def expected_mappings(first_port: int, count: int) -> set[tuple[int, str]]:
    return {(first_port + i // 2, "TCP" if i % 2 == 0 else "UDP") for i in range(count)}


def description(port: int, protocol: str) -> str:
    return f"bulk {protocol} {port}"


def start_router_with_leases(
    lan: Lan, client: Host, first_port: int, count: int, *, igd_v1: bool = False
) -> Router:
    """A router whose miniupnpd starts with `count` mappings to `client` (half TCP, half UDP)."""
    router = lan.add_router()
    expiry = int(time.time()) + LEASE
    lines = [
        f"{protocol}:{port}:{client.ip}:{port}:{expiry}:{description(port, protocol)}"
        for port, protocol in sorted(expected_mappings(first_port, count))
    ]
    (lan.workdir / f"{router.name}-miniupnpd.leases").write_text("\n".join(lines) + "\n")
    try:
        router.start_miniupnpd(secure_mode=True, igd_v1=igd_v1)
    except TimeoutError:
        assert router.daemon is not None
        router.daemon.wait_for_output(r"HTTP listening on port", timeout=RESTORE_TIMEOUT)
    return router
