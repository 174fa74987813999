"""Where the control round trip goes: `SetTarget` from aiohttp (Home Assistant's HTTP
client) to our agent and to the stock async-upnp-client light, with connection reuse
allowed (as Home Assistant's shared session does) and with a new connection per call.

    PYTHONPATH=/repo python bench/reference_client.py [--calls N]

(in the sandbox as root: `scripts/shell python bench/reference_client.py`.) The agent
closes every connection after its answer (by design: a board has few sockets), the
stock server keeps it open when the client may reuse it: the first mode shows what that
is worth, the second compares the two servers on equal terms. Calls alternate between
the servers; N calls each per mode (default 300), each bounded by a 10 s timeout;
medians printed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time

import aiohttp

from bench.reference_common import IO_TIMEOUT_S, SWITCH, Server, resolve, start_servers
from tests.lan import Lan


def set_target_body(value: int) -> bytes:
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:SetTarget xmlns:u="{SWITCH}"><newTargetValue>{value}</newTargetValue>'
        "</u:SetTarget></s:Body></s:Envelope>"
    ).encode()


async def measure(servers: list[Server], calls: int, *, reuse: bool) -> dict[str, float]:
    samples: dict[str, list[float]] = {server.name: [] for server in servers}
    headers = {"SOAPACTION": f'"{SWITCH}#SetTarget"', "CONTENT-TYPE": 'text/xml; charset="utf-8"'}
    connector = aiohttp.TCPConnector(force_close=not reuse)
    timeout = aiohttp.ClientTimeout(total=IO_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for index in range(calls):
            for server in servers:
                url = f"http://{server.ip}:{server.port}{server.control_path}"
                started = time.perf_counter()
                async with session.post(
                    url, data=set_target_body(index % 2), headers=headers
                ) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{server.name}: HTTP {response.status}")
                samples[server.name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with Lan() as lan:
        client = lan.add_host("pc")
        servers = [
            dataclasses.replace(resolve(client, server), action="SetTarget")
            for server in start_servers(lan, ("agent", "stock"))
        ]
        with client.entered():
            for reuse in (True, False):
                medians = asyncio.run(measure(servers, args.calls, reuse=reuse))
                mode = "reuse allowed" if reuse else "new connection per call"
                print(
                    f"aiohttp SetTarget, {mode:23}: agent {medians['agent'] * 1000:.3f} ms, "
                    f"stock {medians['stock'] * 1000:.3f} ms, stock/agent "
                    f"{medians['stock'] / medians['agent']:.2f} (medians of {args.calls})"
                )


if __name__ == "__main__":
    main()
