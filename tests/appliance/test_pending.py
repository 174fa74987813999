"""pending.Pending: what the appliance's helpers hold is cancelled at most once, never after
it ran, and never left running behind a newer one."""

from __future__ import annotations

from custom_components.upnp_guard.pending import Pending


class Handle:
    def __init__(self) -> None:
        self.cancelled = 0

    def __call__(self) -> None:
        self.cancelled += 1


def test_cancel_stops_what_runs_once() -> None:
    pending, handle = Pending(), Handle()
    assert not pending.running
    pending.cancel()  # nothing to cancel: no error
    pending.start(handle)
    assert pending.running
    pending.cancel()
    pending.cancel()
    assert handle.cancelled == 1
    assert not pending.running


def test_a_timer_that_ran_is_not_cancelled() -> None:
    pending, handle = Pending(), Handle()
    pending.start(handle)
    pending.ran()
    assert not pending.running
    pending.cancel()
    assert handle.cancelled == 0


def test_starting_again_stops_the_previous_one() -> None:
    pending, first, second = Pending(), Handle(), Handle()
    pending.start(first)
    pending.start(second)
    assert (first.cancelled, second.cancelled) == (1, 0)
    pending.cancel()
    assert (first.cancelled, second.cancelled) == (1, 1)
