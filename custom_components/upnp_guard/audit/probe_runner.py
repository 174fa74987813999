"""Running the active probes (probes.py) within an audit run: only when enabled, each
device at most once per PROBE_INTERVAL_S, and their findings kept until the next probe of
the device (a passive run in between does not forget them)."""

from __future__ import annotations

import time

from async_upnp_client.client import UpnpDevice
from homeassistant.core import HomeAssistant

from ..transport import ip_literal
from .callstranger import async_probe_callstranger
from .checks import make_finding
from .const import (
    NOT_TESTABLE_NO_OTHER_NETWORK,
    NOT_TESTABLE_NO_SECOND_ADDRESS,
    NOT_TESTABLE_SEND_FAILED,
    PROBE_INTERVAL_S,
    Category,
    CheckId,
    Severity,
)
from .findings import Finding
from .inventory import InventoryDevice
from .probes import (
    async_probe_amplification,
    async_probe_off_subnet,
    async_probe_secure_mode,
    other_lan_address,
    outside_source,
)
from .search import async_lan_interfaces


class ProbeRunner:
    """Probe state of one audit entry."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.enabled = False
        self._last: dict[str, float] = {}  # UDN -> time.monotonic() of its last probe
        self._findings: dict[str, list[Finding]] = {}
        # UDN -> {check ID: why} of the probes its last probe could not try.
        self._not_testable: dict[str, dict[CheckId, str]] = {}
        self.probed = 0  # devices whose probes completed since start

    def forget(self, udn: str) -> None:
        """Probe the device again at the next run (after a fix)."""
        self._last.pop(udn, None)
        self._findings.pop(udn, None)
        self._not_testable.pop(udn, None)

    def findings(self, udn: str) -> list[Finding]:
        """The findings of the device's last probe."""
        return list(self._findings.get(udn, []))

    def not_testable(self, udn: str) -> dict[CheckId, str]:
        """The probes the device's last probe could not try, and why."""
        return dict(self._not_testable.get(udn, {}))

    async def async_probe(
        self, device: InventoryDevice, described: UpnpDevice, avoid: set[str]
    ) -> list[Finding]:
        """Probe the device if enabled and due; its probe findings (old ones if not due)."""
        now = time.monotonic()
        last = self._last.get(device.udn)
        if not self.enabled or (last is not None and now - last < PROBE_INTERVAL_S):
            return self.findings(device.udn)
        address = ip_literal(device.address)
        ours = await async_lan_interfaces(self.hass)
        interfaces = [i for i in ours if address is not None and address in i.network]
        if not interfaces:  # not on a network Home Assistant is on: never probed
            return []
        local = interfaces[0]
        self._last[device.udn] = now
        found: list[Finding] = []
        untested: dict[CheckId, str] = {}
        amplification = await async_probe_amplification(str(local.ip), device)
        if amplification is not None and amplification.excessive:
            found.append(
                make_finding(
                    device,
                    CheckId.SSDP_AMPLIFICATION,
                    Severity.MEDIUM,
                    Category.AMPLIFICATION,
                    placeholders={"ratio": f"{amplification.ratio:.0f}"},
                    details=amplification.as_dict(),
                )
            )
        outside = outside_source(ours, device.address)
        off_subnet = await async_probe_off_subnet(outside, device) if outside else None
        if outside is None:  # reported, not a finding (docs/audit.md)
            untested[CheckId.SSDP_OFF_SUBNET] = NOT_TESTABLE_NO_OTHER_NETWORK
        elif off_subnet is None:
            untested[CheckId.SSDP_OFF_SUBNET] = NOT_TESTABLE_SEND_FAILED
        elif off_subnet.replies:
            found.append(
                make_finding(
                    device,
                    CheckId.SSDP_OFF_SUBNET,
                    Severity.MEDIUM,
                    Category.AMPLIFICATION,
                    placeholders={"source": off_subnet.source},
                    details=off_subnet.as_dict(),
                )
            )
        other = other_lan_address(local, avoid | {device.address})
        secure = await async_probe_secure_mode(described, other) if other else None
        if secure is not None and secure.accepted:
            found.append(
                make_finding(
                    device,
                    CheckId.ROUTER_SECURE_MODE_OFF,
                    Severity.HIGH if secure.removed else Severity.CRITICAL,
                    Category.ROUTER,
                    details=secure.as_dict(),
                )
            )
        callback_ip = next((str(i.ip) for i in ours if i.ip != local.ip), None)
        if callback_ip is not None:  # needs a second address of ours (docs/audit.md)
            callbacks = await async_probe_callstranger(
                self.hass, described, device.address, callback_ip
            )
            if callbacks.accepted or callbacks.notifies:
                found.append(
                    make_finding(
                        device,
                        CheckId.CALLSTRANGER,
                        Severity.HIGH,
                        Category.EVENT_CALLBACK,
                        details=callbacks.as_dict(),
                    )
                )
        else:
            untested[CheckId.CALLSTRANGER] = NOT_TESTABLE_NO_SECOND_ADDRESS
        self._findings[device.udn] = found
        self._not_testable[device.udn] = untested
        self.probed += 1
        return found
