"""Fixtures of the over-the-air update tests (test_ota*.py); the build, provision and mip
tests import theirs from build_fixtures.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.firmware.e2e import lan_sockets
from tests.lan import Lan
from tests.lan.agent import Board, SupervisedAgent, start_board

__all__ = ["boards", "lan_sockets"]


@pytest.fixture
def boards(lan: Lan) -> Iterator[Callable[..., SupervisedAgent]]:
    """start_board for a test: every board it started is unsupervised when it ends (also
    when it failed), before the lingering-thread check of Home Assistant's fixtures."""
    started: list[SupervisedAgent] = []

    def start(board: Board, name: str = "agent", **kwargs: Any) -> SupervisedAgent:
        agent = start_board(lan, board, name, **kwargs)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.unsupervise()
