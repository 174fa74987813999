"""SOAP throughput side by side, in one run: our agent, miniupnpd (C) and the stock
async-upnp-client light, on the same LAN, from the same client code and host.

    PYTHONPATH=/repo python bench/reference_soap.py [--requests N] [--rounds R]

(in the sandbox as root: `scripts/shell python bench/reference_soap.py`.) The query is
the smallest read each server has, of the same shape and size within a few bytes
(bench/reference_common.py soap_request): `GetTarget` on SwitchPower:1 for the agent and
the light, `GetExternalIPAddress` on WANIPConnection:2 for miniupnpd. One connection per
request (`CONNECTION: close`; the agent and miniupnpd close anyway). Rounds alternate
between the servers so that the machine's noise falls on all of them; per server the
median of the rounds is printed, sequential and with 4 concurrent clients (one host
each), and the ratios against the agent. Bounded: N x (1 + 1) x R requests per server,
each with a 10 s socket timeout.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from bench.reference_common import Server, exchange, resolve, soap_request, start_servers, status
from tests.lan import Host, Lan

CLIENTS = 4
WARM_UP = 20


def rate(clients: list[Host], server: Server, data: bytes, total: int) -> tuple[float, int]:
    """Requests per second with one thread per client host; and the non-200 answers."""
    errors: list[int] = []
    each = total // len(clients)

    def run(client: Host) -> None:
        for _ in range(each):
            code = status(exchange(client, server.ip, server.port, data))
            if code != 200:
                errors.append(code)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return each * len(clients) / (time.perf_counter() - started), len(errors)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Lan() as lan:
        client = lan.add_host("pc")
        servers = [resolve(client, server) for server in start_servers(lan)]
        many = [lan.add_host(f"cp{i}") for i in range(CLIENTS)]
        requests = {server.name: soap_request(server) for server in servers}
        sizes = {}
        for server in servers:
            for _ in range(WARM_UP):
                response = exchange(client, server.ip, server.port, requests[server.name])
                if status(response) != 200:
                    raise RuntimeError(f"{server.name}: {response[:300]!r}")
            sizes[server.name] = len(response)
        sequential: dict[str, list[float]] = {server.name: [] for server in servers}
        concurrent: dict[str, list[float]] = {server.name: [] for server in servers}
        errors = dict.fromkeys(sequential, 0)
        for _ in range(args.rounds):
            for server in servers:
                data = requests[server.name]
                seq, bad = rate([client], server, data, args.requests)
                sequential[server.name].append(seq)
                conc, bad_many = rate(many, server, data, args.requests)
                concurrent[server.name].append(conc)
                errors[server.name] += bad + bad_many
    base_seq = statistics.median(sequential["agent"])
    base_conc = statistics.median(concurrent["agent"])
    for server in servers:
        seq = statistics.median(sequential[server.name])
        conc = statistics.median(concurrent[server.name])
        print(
            f"{server.name:9} {server.action:20} request {len(requests[server.name])} B, "
            f"response {sizes[server.name]} B: sequential {seq:6.0f} req/s "
            f"(x{seq / base_seq:.2f} the agent), {CLIENTS} clients {conc:6.0f} req/s "
            f"(x{conc / base_conc:.2f}); median of {args.rounds}, non-200: {errors[server.name]}"
        )


if __name__ == "__main__":
    main()
