"""`Pending`: the one timer (or listener) an object has running, cancelled at most once.

Home Assistant's `async_call_later`, `async_track_time_interval` and the SSDP callback
registration each hand back a function that cancels them; calling it twice, or after a
one-shot timer ran, is a mistake. The appliance's helpers (availability.py, polling.py,
presence.py, subscriptions.py) and the router's events (router/events.py) each hold such
handles; this is the rule they share.
"""

from __future__ import annotations

from homeassistant.core import CALLBACK_TYPE, callback


class Pending:
    """Holds the cancel function of what is running, or nothing."""

    def __init__(self) -> None:
        self._cancel: CALLBACK_TYPE | None = None

    @property
    def running(self) -> bool:
        """Whether something is scheduled (or listening) that cancel() would stop."""
        return self._cancel is not None

    def start(self, cancel: CALLBACK_TYPE) -> None:
        """Hold the cancel function of what was just scheduled; what ran before is stopped
        (two timers for one job would both fire)."""
        self.cancel()
        self._cancel = cancel

    @callback
    def cancel(self) -> None:
        """Stop what is running, if anything."""
        if self._cancel is not None:
            cancel, self._cancel = self._cancel, None
            cancel()

    def ran(self) -> None:
        """A one-shot timer fired: nothing is left to cancel."""
        self._cancel = None
