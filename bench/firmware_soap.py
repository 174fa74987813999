"""SOAP requests per second on the unix port (one connection per request, as the agent
closes after each response), sequential and with 4 concurrent clients.

    PYTHONPATH=/repo python bench/firmware_soap.py [heap] [requests]   (default 96wK 500)
"""

from __future__ import annotations

import sys
import threading
import time

from bench.firmware_common import Lan, description, exchange, soap, start_agent, status

SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"


def main() -> None:
    heap = sys.argv[1] if len(sys.argv) > 1 else "96wK"
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with Lan() as lan:
        agent = start_agent(lan, heap=heap, log_level="warning")
        pc = lan.add_host("pc")
        desc = description(pc, agent)
        data = soap(agent, desc, SWITCH, "GetStatus")
        for _ in range(20):  # warm-up
            exchange(pc, agent, data)
        started = time.perf_counter()
        for _ in range(total):
            assert status(exchange(pc, agent, data)) == 200
        sequential = total / (time.perf_counter() - started)

        errors: list[int] = []

        def client(count: int) -> None:
            for _ in range(count):
                code = status(exchange(pc, agent, data))
                if code != 200:
                    errors.append(code)

        threads = [threading.Thread(target=client, args=(total // 4,)) for _ in range(4)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        concurrent = (total // 4 * 4) / (time.perf_counter() - started)
        stats = agent.stats()
        print(
            f"heap {heap}: sequential {sequential:.0f} req/s, 4 clients {concurrent:.0f} req/s "
            f"(non-200: {len(errors)}), heap_peak {stats['heap_peak']} B"
        )


if __name__ == "__main__":
    main()
