"""What the loader (firmware/main.py + ugboot.py) leaves on the heap of a board running the
frozen agent: the same 32-bit frozen build at 64 KB, idle, started directly
(`-m upnpguard.agent`) and through the loader from a board directory, side by side.

    PYTHONPATH=/repo:/repo/fleet python bench/firmware_loader_heap.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from tests.lan import Lan
from tests.lan.agent import DEFAULT_CONFIG, Agent, Board, start_agent, start_board


def live(agent: Agent) -> int:
    time.sleep(1)  # past the first announcements
    return int(agent.stats()["heap_live"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    direct, loader = [], []
    with Lan() as lan:
        for n in range(rounds):
            agent = start_agent(lan, f"direct{n}", build="frozen-32")
            direct.append(live(agent))
            agent.stop()
            board = Board(lan.workdir / f"board{n}")
            board.provision(DEFAULT_CONFIG)
            agent = start_board(lan, board, f"loader{n}", build="frozen-32", heap="64wK")
            loader.append(live(agent))
            agent.stop()
    d, lo = statistics.median(direct), statistics.median(loader)
    print(f"idle heap_live, median of {rounds}: direct {d:.0f} B, through the loader {lo:.0f} B")
    print(f"the loader leaves {lo - d:+.0f} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
