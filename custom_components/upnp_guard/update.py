"""update platform: a paired agent's firmware (appliance/update.py).

Router and audit entries do not forward this platform: the appliance's set-up is the
platform's.
"""

from __future__ import annotations

from datetime import timedelta

from .appliance.update import async_setup_entry

__all__ = ["async_setup_entry"]

# One install at a time per entity; its requests queue on the agent's connection
# (ApplianceConnection.control_lock) like every other action.
PARALLEL_UPDATES = 0
# The bundle directory is read again this often: a new build shows up by itself.
SCAN_INTERVAL = timedelta(minutes=1)
