"""scripts/develop after a crash: the next start removes what the killed run left behind
(processes, namespaces with their nftables rules) and comes up; a second demo on the same
state while one runs is refused, and the running one is left alone."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.demo.__main__ import _start_time

from .demo_process import DEMO_STOP_S, launch, namespaces, start_demo, stop_demo

pytestmark = pytest.mark.lan


def _alive(pid: int) -> bool:
    return _start_time(pid) is not None


@pytest.mark.timeout(900)
def test_killed_demo_is_cleaned_up_by_the_next_start(tmp_path: Path, socket_enabled: None) -> None:
    first = start_demo(tmp_path, "first.log")
    # A second demo on the same state while the first runs: refused, first untouched.
    second, second_log = launch(tmp_path, "refused.log")
    assert second.wait(DEMO_STOP_S) != 0
    assert "a demo is running already" in second_log.read_text()
    assert first.process.poll() is None
    assert len(namespaces(first.prefix)) > 1

    # The crash: SIGKILL, no cleanup of its own. Its processes and namespaces stay.
    children = [
        int(pid)
        for pid in subprocess.run(
            ["ip", "netns", "pids", f"{first.prefix}-ha"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    ]
    assert children, "Home Assistant runs in the demo's ha namespace"
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    assert namespaces(first.prefix)
    assert all(_alive(pid) for pid in children)

    # The next start removes them and comes up.
    again = start_demo(tmp_path, "again.log")
    try:
        assert "removing what the last run left behind" in again.log.read_text()
        assert namespaces(first.prefix) == []
        assert not any(_alive(pid) for pid in children)
        assert again.states(), "Home Assistant of the new run answers"
    finally:
        code = stop_demo(again)
    assert code == 0
    assert namespaces(again.prefix) == []
