"""One audit run: inventory (HA's SSDP data + our search), descriptions, checks.

`AuditRunner` keeps the inventory and the last report between runs (the audit entry
holds one). Descriptions are read through the guarded requester (transport.py: LAN
hosts only, no redirects, capped bodies), one device at a time and at most
MAX_DESCRIBED_PER_RUN per run; a description whose UDN is not the one the device
announced is ignored (a device cannot get another one audited in its name).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientError
from async_upnp_client.client import UpnpDevice
from async_upnp_client.client_factory import UpnpFactory
from async_upnp_client.exceptions import UpnpError
from homeassistant.components import ssdp
from homeassistant.core import HomeAssistant

from ..lan_text import get_logger
from ..transport import device_requester
from .checks import (
    AgentReading,
    async_agent_info,
    check_agent,
    check_unauthenticated_actions,
    check_vulnerable_stack,
)
from .const import MAX_DESCRIBED_PER_RUN, MAX_FINDINGS
from .findings import Finding, counts_by_category, score, sort_findings
from .inventory import Inventory, InventoryDevice
from .probe_runner import ProbeRunner
from .search import async_search_lan
from .stacks import StackDatabase

_LOGGER = get_logger(__name__)

ROOT_DEVICE = "upnp:rootdevice"


@dataclass(slots=True)
class AuditReport:
    """What one run found."""

    started: datetime
    finished: datetime
    findings: list[Finding]
    devices: list[dict[str, Any]]
    dropped_devices: int = 0
    dropped_findings: int = 0
    unreachable: list[str] = field(default_factory=list)  # addresses not described
    # Probes that could not be tried on a device: {"check_id", "address", "reason"}.
    not_testable: list[dict[str, str]] = field(default_factory=list)

    @property
    def score(self) -> int:
        return score(self.findings)

    def as_dict(self) -> dict[str, Any]:
        """The report (action response, diagnostics)."""
        return {
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "score": self.score,
            "counts": counts_by_category(self.findings),
            "findings": [finding.as_dict() for finding in self.findings],
            "devices": self.devices,
            "dropped_devices": self.dropped_devices,
            "dropped_findings": self.dropped_findings,
            "unreachable": list(self.unreachable),
            "not_testable": [dict(item) for item in self.not_testable],
        }


# Findings that other parts of the integration know (router entries): called with hass.
ExtraFindings = Callable[[HomeAssistant], Iterable[Finding]]


class AuditRunner:
    """Runs the passive checks; one per audit entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        database: StackDatabase,
        extra_findings: Iterable[ExtraFindings] = (),
    ) -> None:
        self.hass = hass
        self.database = database
        self.inventory = Inventory()
        self.report: AuditReport | None = None
        self._extra = list(extra_findings)
        self._lock = asyncio.Lock()
        # Descriptions read, by UDN: (location, device); re-read when the location changes.
        self._described: dict[str, tuple[str, UpnpDevice]] = {}
        self.probes = ProbeRunner(hass)
        # Refusals our own checks caused on an agent (pair_agent.py), by UDN: (boot id,
        # count); they are not someone else's attempts (UG-AGENT-003).
        self._own_refusals: dict[str, tuple[int, int]] = {}

    def note_own_refusals(self, udn: str, boot_id: int, count: int) -> None:
        """The agent (at `boot_id`) refused `count` requests of ours (a key check)."""
        if count <= 0 or not boot_id:
            return
        seen_boot, seen = self._own_refusals.get(udn, (boot_id, 0))
        self._own_refusals[udn] = (boot_id, (seen if seen_boot == boot_id else 0) + count)

    def _discount_own(self, udn: str, reading: AgentReading | None) -> AgentReading | None:
        """The agent's reading without the refusals we caused since its boot."""
        boot_id, own = self._own_refusals.get(udn, (0, 0))
        if reading is None or not own or reading.boot_id != boot_id:
            return reading
        return replace(reading, auth_failures=max(0, reading.auth_failures - own))

    def forget_description(self, udn: str) -> None:
        """Read the device's description again, and probe it again if probes are on, at
        the next run (after a fix)."""
        self._described.pop(udn, None)
        self.probes.forget(udn)

    async def async_collect(self, *, search: bool) -> None:
        """Fill the inventory from HA's SSDP data and, when `search`, our own search."""
        now = datetime.now(UTC)
        for info in await ssdp.async_get_discovery_info_by_st(self.hass, ROOT_DEVICE):
            self.inventory.observe_ssdp(info, now)
        if search:
            for headers in await async_search_lan(self.hass):
                self.inventory.observe_headers(headers, now)

    async def _async_describe(self, device: InventoryDevice) -> UpnpDevice | None:
        cached = self._described.get(device.udn)
        if cached is not None and cached[0] == device.location:
            return cached[1]
        factory = UpnpFactory(device_requester(self.hass), non_strict=True)
        try:
            described = await factory.async_create_device(device.location)
        except (UpnpError, ClientError, OSError, TimeoutError) as err:
            _LOGGER.debug("Audit: no description at %s: %r", device.location, err)
            return None
        if described.udn.lower() != device.udn.lower():
            _LOGGER.debug(
                "Audit: %s describes %s, not %s", device.location, described.udn, device.udn
            )
            return None
        self._described[device.udn] = (device.location, described)
        self.inventory.observe_description(device.udn, described)
        return described

    async def async_run(self, *, search: bool = True) -> AuditReport:
        """Collect, describe, check; the report (also kept in `self.report`)."""
        async with self._lock:
            started = datetime.now(UTC)
            await self.async_collect(search=search)
            findings: list[Finding] = []
            unreachable: list[str] = []
            not_testable: list[dict[str, str]] = []
            devices = sorted(self.inventory, key=lambda d: d.last_seen, reverse=True)
            for index, device in enumerate(devices):
                described = (
                    await self._async_describe(device) if index < MAX_DESCRIBED_PER_RUN else None
                )
                # After the description: it may name a model a fingerprint knows.
                findings += check_vulnerable_stack(device, self.database)
                if described is None:
                    unreachable.append(device.address)
                    continue
                findings += check_unauthenticated_actions(device, described)
                reading = self._discount_own(device.udn, await async_agent_info(described))
                findings += check_agent(device, reading)
                avoid = {d.address for d in devices}
                findings += await self.probes.async_probe(device, described, avoid)
                if self.probes.enabled:
                    not_testable += [
                        {"check_id": check.value, "address": device.address, "reason": reason}
                        for check, reason in self.probes.not_testable(device.udn).items()
                    ]
            for source in self._extra:
                findings += list(source(self.hass))
            ordered = sort_findings(list({f.key: f for f in findings}.values()))
            self.report = AuditReport(
                started=started,
                finished=datetime.now(UTC),
                findings=ordered[:MAX_FINDINGS],
                devices=self.inventory.as_list(),
                dropped_devices=self.inventory.dropped,
                dropped_findings=max(0, len(ordered) - MAX_FINDINGS),
                unreachable=sorted(set(unreachable)),
                not_testable=sorted(
                    not_testable, key=lambda item: (item["check_id"], item["address"])
                ),
            )
            return self.report
