"""Benchmark: list a router's 500 port mappings with UPnP Guard, `upnpc -l` and `upnpc -L`.

Run inside the sandbox (needs root for the simulated LAN):

    cd /work/main && source scripts/_env.sh && sandbox_mount && \
      sandbox_exec sh -c 'cd /repo && PYTHONPATH=/repo python bench/router_list.py'

One miniupnpd (IGD:2, secure mode, nftables) is filled with COUNT mappings; then, from the
same LAN host and in one run, each lister reads the whole table REPEAT times and the
median wall time is printed. UPnP Guard uses GetListOfPortMappings (IGD:2) and, for
comparison, its IGD:1 path (GetGenericPortMappingEntry until 713) like `upnpc -l`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lan import Lan
from tests.router.bulk_leases import expected_mappings, start_router_with_leases

FIRST_PORT = 20000
LISTER = """
import asyncio, sys, time
from async_upnp_client.aiohttp import AiohttpRequester
from async_upnp_client.client_factory import UpnpFactory
from custom_components.upnp_guard.router.igd import IgdClient

async def main(location, mode):
    factory = UpnpFactory(AiohttpRequester(timeout=600), non_strict=True)
    device = await factory.async_create_device(location)
    client = IgdClient(device)
    start = time.perf_counter()
    if mode == "generic":
        mappings = await client._async_list_generic()
    else:
        mappings = await client.async_list_port_mappings()
    print(len(mappings), time.perf_counter() - start)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--generic-repeat", type=int, default=1)
    args = parser.parse_args()

    with Lan() as lan:
        client = lan.add_host("client")
        started = time.perf_counter()
        router = start_router_with_leases(lan, client, FIRST_PORT, args.count)
        print(f"router up with {args.count} mappings in {time.perf_counter() - started:.1f} s")
        expected = expected_mappings(FIRST_PORT, args.count)
        results: dict[str, list[float]] = {}

        def ours(mode: str) -> float:
            out = client.run(
                sys.executable, "-c", LISTER, router.description_url, mode, timeout=3600
            ).stdout.split()
            if int(out[0]) != len(expected):
                raise SystemExit(f"UPnP Guard ({mode}) listed {out[0]} of {len(expected)}")
            return float(out[1])

        def upnpc(flag: str) -> float:
            start = time.perf_counter()
            out = client.run("upnpc", "-u", router.description_url, flag, timeout=3600).stdout
            elapsed = time.perf_counter() - start
            if out.count("'bulk ") != len(expected):
                raise SystemExit(f"upnpc {flag} listed {out.count(chr(39) + 'bulk ')}")
            return elapsed

        for _ in range(args.repeat):
            results.setdefault("UPnP Guard (IGD:2 GetListOfPortMappings)", []).append(ours("list"))
            results.setdefault("upnpc -L (GetListOfPortMappings)", []).append(upnpc("-L"))
        for _ in range(args.generic_repeat):
            results.setdefault("UPnP Guard (IGD:1 path, GetGenericPortMappingEntry)", []).append(
                ours("generic")
            )
            results.setdefault("upnpc -l (GetGenericPortMappingEntry)", []).append(upnpc("-l"))

        print(f"\nlisting {args.count} mappings, miniupnpd 2.3.10 nftables, median of runs:")
        for name, times in results.items():
            print(f"  {name:55s} {statistics.median(times):8.2f} s  (n={len(times)})")


if __name__ == "__main__":
    main()
