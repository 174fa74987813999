"""Peak heap of the agent with 4 subscribers (each to every service) and 4 concurrent
HTTP clients, and the smallest `-X heapsize` that survives it (no MemoryError, no 503,
every request answered), for each way of running the agent (tests/lan/agent.py BUILDS).
The clients' load is tests/firmware/e2e.py `control_load` (the one test_e2e_memory.py
runs): each alternates a description GET and a SetTarget toggling the relay.

    PYTHONPATH=/repo python bench/firmware_heap.py [--paired] [--each N] [BUILD:HEAP ...]

Default: frozen-32 and frozen at 64wK 56wK 48wK, source at 104wK 100wK 96wK. The builds
`mpy` and `mpy-32` run the agent from a .mpy bundle (upnp-guard-build, built once per
run into a temporary directory), e.g. `mpy-32:96wK mpy-32:80wK mpy-32:64wK`; `romfs-32`
from the same bundle in a ROMFS image (bytecode in place), e.g. `romfs-32:64wK`. `--each N`:
each subscriber subscribes to N services only, the button's first (default: all of them).
`--paired`: the agent in paired mode (a provisioned key); every SUBSCRIBE and SetTarget is
signed (UG-AUTH) and every NOTIFY carries one. Without it the agent runs `open`.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import tempfile
from pathlib import Path

from upnp_guard_fleet.bundle import build_bundle

from tests.firmware.e2e import (
    control_load,
    description,
    exchange,
    notify_server,
    sign,
    status,
    subscribe,
)
from tests.lan import Lan
from tests.lan.agent import BUNDLE_BUILDS, PAIRED_CONFIG, boot_id, start_agent

ROUNDS = 15
CLIENTS = 4
SUBSCRIBERS = 4
KEY = bytes(range(32))


DEFAULT_RUNS = [
    *(f"frozen-32:{heap}" for heap in ("64wK", "56wK", "48wK")),
    *(f"frozen:{heap}" for heap in ("64wK", "56wK", "48wK")),
    *(f"source:{heap}" for heap in ("104wK", "100wK", "96wK")),
]


@functools.cache
def _bundle() -> Path:
    """The tree's firmware as a .mpy bundle, for the `mpy` builds."""
    out = Path(tempfile.mkdtemp(prefix="ug-bench-bundle-"))
    return build_bundle(Path(__file__).resolve().parents[1] / "firmware", out)


def run(build: str, heap: str, each: int | None, paired: bool = False) -> dict[str, object]:
    try:
        return _run(build, heap, each, paired)
    except Exception as err:  # a failed run is a result of the table, not a crash
        why = f"{type(err).__name__}: {str(err)[-200:]}"
        return {"build": build, "heap": heap, "ok": False, "why": why}


def _run(build: str, heap: str, each: int | None, paired: bool) -> dict[str, object]:
    """`each`: how many services each subscriber subscribes to (None: all)."""
    with Lan() as lan:
        try:
            bundle = _bundle() if build in BUNDLE_BUILDS else None
            if paired:
                agent = start_agent(
                    lan, build=build, heap=heap, config=PAIRED_CONFIG, key=KEY, bundle=bundle
                )
            else:
                agent = start_agent(lan, build=build, heap=heap, bundle=bundle)
        except Exception as err:
            return {"build": build, "heap": heap, "ok": False, "why": f"start: {str(err)[-120:]}"}
        # One host per control point, as on a real network (the agent caps connections
        # and subscriptions per peer): subscriber i is also client i.
        hosts = [lan.add_host(f"cp{i}") for i in range(max(SUBSCRIBERS, CLIENTS))]
        desc = description(hosts[0], agent)
        failures: list[str] = []
        boot = boot_id(agent)
        counters = itertools.count(1)  # shared by the clients' threads (GIL: no repeats)

        def signed(data: bytes) -> bytes:
            return sign(data, KEY, boot, next(counters)) if paired else data

        # A control point subscribes to every service it shows: 4 subscribers x every
        # evented service of the board (32 subscriptions with DEFAULT_CONFIG).
        # The button's service first, so the presses below make events with --each too.
        pairs = re.findall(
            r"<serviceType>([^<]+)</serviceType>.*?<eventSubURL>([^<]+)<", desc, re.S
        )
        pairs.sort(key=lambda pair: "BinaryInput" not in pair[0])
        paths = [path for _, path in pairs][:each]
        sinks = [notify_server(hosts[i], 8200 + i) for i in range(SUBSCRIBERS)]
        counts = [sink.__enter__() for sink in sinks]
        try:
            for i in range(SUBSCRIBERS):
                for path in paths:
                    sub = subscribe(agent, path, f"<http://{hosts[i].ip}:{8200 + i}/>")
                    if status(exchange(hosts[i], agent, signed(sub))) != 200:
                        failures.append("subscribe " + path)
            failures += control_load(
                agent, hosts[:CLIENTS], desc, rounds=ROUNDS, presses=ROUNDS, sign_control=signed
            )
            stats = agent.stats()
        finally:
            for sink in sinks:
                sink.__exit__(None, None, None)
        output = agent.process.output()
        alive = agent.alive() and "MemoryError" not in output
        warnings = [line for line in output.splitlines() if line.startswith(("[W]", "[E]"))]
        if not alive:
            where = max(output.find("MemoryError"), 0)
            failures.append(output[max(where - 200, 0) : where + 100])
        return {
            "build": build,
            "heap": heap,
            "mode": "paired" if paired else "open",
            "ok": alive and not failures,
            "why": "; ".join(failures[:3] + warnings[:2]) or ("" if alive else "MemoryError/exit"),
            "heap_peak": stats["heap_peak"],
            "heap_live_idle": stats["heap_live"],
            "events": sum(len(c) for c in counts),
            "connections_peak": stats["connections_peak"],
            "subscriptions": stats["subscriptions"],
        }


def main() -> None:
    argv = sys.argv[1:]
    paired = argv[:1] == ["--paired"]
    if paired:
        argv = argv[1:]
    each = None
    if argv[:1] == ["--each"]:
        each = int(argv[1])
        argv = argv[2:]
    smallest: dict[str, str | None] = {}
    for spec in argv or DEFAULT_RUNS:
        build, _, heap = spec.partition(":")
        result = run(build, heap, each, paired)
        print(result, flush=True)
        smallest.setdefault(build, None)
        if result["ok"]:
            smallest[build] = heap  # heaps are listed largest first
    for build, heap in smallest.items():
        print(f"{build}: smallest heap that works (of those tried): {heap}")


if __name__ == "__main__":
    main()
