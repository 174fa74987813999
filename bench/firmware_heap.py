"""Peak heap of the agent with 4 subscribers (each to every service) and 4 concurrent
HTTP clients, and the
smallest `-X heapsize` that survives it (no MemoryError, no 503, every request answered).

    PYTHONPATH=/repo python bench/firmware_heap.py [heap ...]    (default: 128wK..64wK)
"""

from __future__ import annotations

import re
import sys
import threading

from bench.firmware_common import (
    Lan,
    description,
    exchange,
    notify_server,
    request,
    soap,
    start_agent,
    status,
)

SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
ROUNDS = 15
CLIENTS = 4
SUBSCRIBERS = 4


def run(heap: str) -> dict[str, object]:
    try:
        return _run(heap)
    except Exception as err:  # a failed run is a result of the table, not a crash
        return {"heap": heap, "ok": False, "why": f"{type(err).__name__}: {str(err)[-200:]}"}


def _run(heap: str) -> dict[str, object]:
    with Lan() as lan:
        try:
            agent = start_agent(lan, heap=heap)
        except Exception as err:
            return {"heap": heap, "ok": False, "why": f"start: {str(err)[-120:]}"}
        pc = lan.add_host("pc")
        desc = description(pc, agent)
        failures: list[str] = []
        # A control point subscribes to every service it shows: 4 subscribers x every
        # evented service of the board (32 subscriptions with DEFAULT_CONFIG).
        paths = re.findall(r"<eventSubURL>([^<]+)</eventSubURL>", desc)
        sinks = [notify_server(pc, 8200 + i) for i in range(SUBSCRIBERS)]
        counts = [sink.__enter__() for sink in sinks]
        try:
            for i in range(SUBSCRIBERS):
                for path in paths:
                    sub = request(
                        agent,
                        "SUBSCRIBE",
                        path,
                        {"NT": "upnp:event", "CALLBACK": f"<http://{pc.ip}:{8200 + i}/>"},
                    )
                    if status(exchange(pc, agent, sub)) != 200:
                        failures.append("subscribe " + path)

            def client(index: int) -> None:
                for round_ in range(ROUNDS):
                    try:
                        if (round_ + index) % 2:
                            data = request(agent, "GET", "/desc.xml")
                        else:
                            value = (round_ + index) % 2
                            data = soap(
                                agent,
                                desc,
                                SWITCH,
                                "SetTarget",
                                f"<newTargetValue>{value}</newTargetValue>",
                            )
                        code = status(exchange(pc, agent, data))
                        if code != 200:
                            failures.append(f"client {index}: {code}")
                    except Exception as err:
                        failures.append(f"client {index}: {err}")

            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for _ in range(ROUNDS):
                agent.press_button("doorbell")
            for thread in threads:
                thread.join(120)
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
            "heap": heap,
            "ok": alive and not failures,
            "why": "; ".join(failures[:3] + warnings[:2]) or ("" if alive else "MemoryError/exit"),
            "heap_peak": stats["heap_peak"],
            "heap_live_idle": stats["heap_live"],
            "events": sum(len(c) for c in counts),
            "connections_peak": stats["connections_peak"],
            "subscriptions": stats["subscriptions"],
        }


def main() -> None:
    heaps = sys.argv[1:] or ["128wK", "96wK", "88wK", "80wK", "72wK", "64wK"]
    smallest = None
    for heap in heaps:
        result = run(heap)
        print(result, flush=True)
        if result["ok"]:
            smallest = heap
    print(f"smallest heap that works: {smallest}")


if __name__ == "__main__":
    main()
