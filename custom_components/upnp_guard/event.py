"""event platform: only appliance entries have events (appliance/event.py).

Router and audit entries do not forward this platform: the appliance's set-up is the
platform's.
"""

from __future__ import annotations

from .appliance.event import async_setup_entry

__all__ = ["async_setup_entry"]

# No platform-wide limit: appliance state is pushed by GENA and appliance actions queue per
# device in the connection (ApplianceConnection.control_lock).
PARALLEL_UPDATES = 0
