"""What our agents report outside GENA: when they booted, and whether they run open.

AgentInfo is not subscribed (description.py, evented_services): its values are read
with GetInfo at every (re)connect. An agent in open mode obeys anyone on the LAN
(DESIGN, trust model): a repair issue says so while it is.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from async_upnp_client.client import UpnpDevice, UpnpService
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from ..lan_text import markdown
from ..transport import TRANSPORT_ERRORS
from .const import AGENT_INFO, SECURITY_MODE_OPEN


def open_mode_issue_id(entry_id: str) -> str:
    """Repair issue of an agent entry that runs in open mode."""
    return f"agent_open_mode_{entry_id}"


async def async_read_agent_info(
    hass: HomeAssistant,
    device: UpnpDevice,
    entry_id: str,
    read: Callable[[UpnpService], Awaitable[None]],
) -> float | None:
    """Read AgentInfo with `read` (a device without it is left alone) and raise or clear
    the open-mode issue; the wall-clock time the device booted, when it said."""
    info = device.find_service(AGENT_INFO)
    if info is None:
        return None
    with contextlib.suppress(*TRANSPORT_ERRORS):
        await read(info)
    booted_at: float | None = None
    if info.has_state_variable("Uptime"):
        uptime = info.state_variable("Uptime").value
        if isinstance(uptime, int):
            booted_at = time.time() - uptime
    if info.has_state_variable("SecurityMode"):
        _update_open_mode_issue(
            hass, entry_id, device.friendly_name, info.state_variable("SecurityMode").value
        )
    return booted_at


@callback
def _update_open_mode_issue(hass: HomeAssistant, entry_id: str, name: str, mode: Any) -> None:
    if mode is None:  # not read (yet): keep what we knew
        return
    issue_id = open_mode_issue_id(entry_id)
    if mode != SECURITY_MODE_OPEN:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="agent_open_mode",
        # The friendly name is the device's to choose: inert in the markdown.
        translation_placeholders={"name": markdown(name)},
    )
