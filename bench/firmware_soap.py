"""SOAP requests per second on the unix port (one connection per request, as the agent
closes after each response), sequential and with 4 concurrent clients, for each way of
running the agent side by side (rounds alternate between builds; medians are reported).

    PYTHONPATH=/repo python bench/firmware_soap.py [--paired] [--requests N] [--rounds R]
        [BUILD[:HEAP] ...]

BUILD is one of tests/lan/agent.py BUILDS (default: frozen-32 frozen source, each at its
default heap: 64wK, 64wK, 96wK). `--paired`: the agent in paired mode and every request
authenticated (UG-AUTH, signed as it is sent, so a client's signing time is included):
the same GetStatus, verified because it carries the header.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import threading
import time

from tests.firmware.e2e import SWITCH_POWER, description, exchange, sign, soap, status
from tests.lan import Host, Lan
from tests.lan.agent import BUILDS, PAIRED_CONFIG, boot_id, start_agent

KEY = bytes(range(32))


def measure(build: str, heap: str, total: int, paired: bool) -> tuple[float, float, int, int]:
    with Lan() as lan:
        if paired:
            agent = start_agent(
                lan, build=build, heap=heap, log_level="warning", config=PAIRED_CONFIG, key=KEY
            )
        else:
            agent = start_agent(lan, build=build, heap=heap, log_level="warning")
        pc = lan.add_host("pc")
        desc = description(pc, agent)
        plain = soap(agent, desc, SWITCH_POWER, "GetStatus")
        boot = boot_id(agent)
        counters = itertools.count(1)  # shared by the client threads (GIL: no repeats)

        def data() -> bytes:
            return sign(plain, KEY, boot, next(counters)) if paired else plain

        for _ in range(20):  # warm-up
            exchange(pc, agent, data())
        started = time.perf_counter()
        for _ in range(total):
            assert status(exchange(pc, agent, data())) == 200
        sequential = total / (time.perf_counter() - started)

        errors: list[int] = []
        # One host per client: the agent admits 2 connections per host at a time.
        hosts = [lan.add_host(f"cp{i}") for i in range(4)]

        def client(host: Host, count: int) -> None:
            for _ in range(count):
                code = status(exchange(host, agent, data()))
                if code != 200:
                    errors.append(code)

        threads = [threading.Thread(target=client, args=(host, total // 4)) for host in hosts]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        concurrent = (total // 4 * 4) / (time.perf_counter() - started)
        return sequential, concurrent, len(errors), int(agent.stats()["heap_peak"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paired", action="store_true")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("builds", nargs="*", default=["frozen-32", "frozen", "source"])
    args = parser.parse_args()
    runs = []
    for spec in args.builds:
        build, _, heap = spec.partition(":")
        runs.append((build, heap or BUILDS[build].heap))
    results: dict[tuple[str, str], list[tuple[float, float, int, int]]] = {run: [] for run in runs}
    for _ in range(args.rounds):
        for build, heap in runs:
            results[(build, heap)].append(measure(build, heap, args.requests, args.paired))
    for (build, heap), rows in results.items():
        seq = statistics.median(row[0] for row in rows)
        conc = statistics.median(row[1] for row in rows)
        print(
            f"{build} {heap} {'paired' if args.paired else 'open'}: "
            f"sequential {seq:.0f} req/s, 4 clients {conc:.0f} req/s "
            f"(median of {len(rows)}; non-200: {sum(row[2] for row in rows)}; "
            f"heap_peak {max(row[3] for row in rows)} B)"
        )


if __name__ == "__main__":
    main()
