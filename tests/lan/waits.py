"""Waiting, from a Home Assistant test, for an outcome on the simulated LAN.

Conditions span Home Assistant's state, an entry's runtime data and subprocesses, so
there is no single event to await: `wait_for` polls, bounded by WAIT_S (two shared cores;
a bound, never a timing check)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

WAIT_S = 60.0


async def wait_for(check: Callable[[], object], what: str, limit_s: float = WAIT_S) -> None:
    """Wait (at most `limit_s`) until `check()` holds; `what` names it when it does not."""
    try:
        async with asyncio.timeout(limit_s):
            while not check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {limit_s} s: {what}") from None
