"""The `update` entity of a paired agent: its firmware, updated over the air.

installed_version is the agent's FirmwareVersion (AgentInfo), latest_version the newest
valid bundle in the directory set in the agent's options (bundle.py; none set: nothing is
offered). Installing sends the bundle with BeginUpdate / WriteUpdate / CommitUpdate (signed
like every request to a paired agent; docs/protocol.md "Updates"), then waits, bounded,
for the agent to come back: with the new version confirmed ("ok <version>"), or rolled
back ("rolled_back <version>"), which is reported as an error while the entity keeps
showing the version that runs. A version not newer than the installed one is installed
only when asked for by version and with "allow downgrade" set in the options.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from async_upnp_client.exceptions import UpnpActionResponseError
from homeassistant.components.update import UpdateEntity, UpdateEntityFeature
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..agent_auth import AgentKey, parse_key
from ..const import CONF_KEY, CONF_LOCATION, DOMAIN
from ..lan_text import clean
from ..transport import TRANSPORT_ERRORS
from . import bundle as bundles
from .connection import ApplianceConfigEntry, ApplianceConnection
from .const import (
    AGENT_INFO,
    CONF_ALLOW_DOWNGRADE,
    CONF_BUNDLE_DIR,
    REQUEST_TIMEOUT_S,
    UPDATE_POLL_S,
    UPDATE_WAIT_S,
)
from .description import async_load_appliance
from .entity import device_info, state_value


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ApplianceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One update entity for a paired agent (open agents refuse updates by default)."""
    connection = entry.runtime_data
    device = connection.device
    if connection.paired is None or not device.has_service(AGENT_INFO):
        return
    if not device.service(AGENT_INFO).has_action("BeginUpdate"):
        return  # an agent from before over-the-air updates
    async_add_entities([AgentFirmwareUpdate(entry, connection)], update_before_add=True)


class AgentFirmwareUpdate(UpdateEntity):
    """The agent's firmware and the newest bundle offered for it."""

    _attr_has_entity_name = True
    _attr_translation_key = "firmware"
    _attr_entity_category = EntityCategory.CONFIG
    _attr_should_poll = True
    _attr_supported_features = (
        UpdateEntityFeature.INSTALL
        | UpdateEntityFeature.PROGRESS
        | UpdateEntityFeature.SPECIFIC_VERSION
    )

    def __init__(self, entry: ApplianceConfigEntry, connection: ApplianceConnection) -> None:
        self.entry = entry
        self.connection = connection
        self._attr_unique_id = f"{connection.udn}_firmware_update"
        self._attr_device_info = device_info(connection.device, connection.root_device_id)
        self._bundles: list[bundles.Bundle] = []

    # -- state -------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return self.connection.available

    @property
    def installed_version(self) -> str | None:
        value = state_value(self.connection.device, AGENT_INFO, "FirmwareVersion")
        return clean(value, 20) if isinstance(value, str) and value else None

    @property
    def latest_version(self) -> str | None:
        if self._bundles:
            return self._bundles[0].version
        return self.installed_version  # nothing offered: up to date

    @property
    def release_summary(self) -> str | None:
        return self._bundles[0].notes if self._bundles else None

    def _directory(self) -> Path | None:
        text = self.entry.options.get(CONF_BUNDLE_DIR)
        return Path(text) if isinstance(text, str) and text else None

    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            self.connection.async_add_listener(lambda _s, _r: self.async_write_ha_state())
        )

    async def async_update(self) -> None:
        """Scan the bundle directory (in the executor; the platform's SCAN_INTERVAL)."""
        directory = self._directory()
        self._bundles = (
            await self.hass.async_add_executor_job(bundles.scan, directory)
            if directory is not None
            else []
        )

    # -- install -----------------------------------------------------------------------
    def _error(self, key: str, **placeholders: str) -> HomeAssistantError:
        placeholders.setdefault("name", clean(self.connection.device.friendly_name, 64))
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )

    async def _async_pick(self, version: str | None) -> tuple[bundles.Bundle, bool]:
        """The bundle to install and whether it must be forced (not newer)."""
        await self.async_update()
        wanted = [b for b in self._bundles if version is None or b.version == version]
        if not wanted:
            raise self._error("update_no_bundle", version=version or "-")
        chosen = wanted[0]
        installed = bundles.parse_version(self.installed_version)
        if installed is None or chosen.parsed_version > installed:
            return chosen, False
        if version is None or not self.entry.options.get(CONF_ALLOW_DOWNGRADE, False):
            raise self._error("update_not_newer", version=chosen.version)
        return chosen, True

    async def async_install(self, version: str | None, backup: bool, **kwargs: Any) -> None:
        """Send the bundle, then wait for the agent to come back with it (or without)."""
        chosen, force = await self._async_pick(version)
        try:
            files = await self.hass.async_add_executor_job(bundles.read_files, chosen)
        except bundles.BundleError as err:
            raise self._error("update_bundle_invalid", error=str(err)) from err
        key = AgentKey(parse_key(str(self.entry.data[CONF_KEY])))
        info = await self._async_get_info()
        if info is None:
            raise self._error("update_failed", error="the agent does not answer")
        old_boot = info.get("BootId")
        self._attr_in_progress = True
        self._attr_update_percentage = 0
        self.async_write_ha_state()
        try:
            await self._async_send(chosen, files, key, force)
        finally:
            self._attr_update_percentage = None
        await self._async_wait(chosen.version, old_boot)

    async def _async_call(self, action: str, **arguments: Any) -> None:
        service = self.connection.device.service(AGENT_INFO)
        try:
            async with self.connection.control_lock, asyncio.timeout(REQUEST_TIMEOUT_S):
                await service.action(action).async_call(**arguments)
        except UpnpActionResponseError as err:
            raise self._error(
                "update_refused",
                code=str(err.error_code),
                description=clean(err.error_desc or "", 64),
            ) from err
        except TRANSPORT_ERRORS as err:
            raise self._error("update_failed", error=type(err).__name__) from err

    async def _async_send(
        self,
        chosen: bundles.Bundle,
        files: list[tuple[str, bytes]],
        key: AgentKey,
        force: bool,
    ) -> None:
        await self._async_call(
            "BeginUpdate",
            NewVersion=chosen.version,
            NewDigest=chosen.digest,
            NewAuth=bundles.update_auth(key, chosen.version, chosen.digest),
            NewForce=force,
        )
        total = bundles.total_bytes(chosen, files)
        sent = 0
        for path, offset, data in bundles.chunks(chosen, files):
            await self._async_call("WriteUpdate", NewPath=path, NewOffset=offset, NewData=data)
            sent += len(data) * 3 // 4
            percentage = min(99, sent * 100 // max(total, 1))
            if percentage != self._attr_update_percentage:
                self._attr_update_percentage = percentage
                self.async_write_ha_state()
        await self._async_call("CommitUpdate")

    async def _async_get_info(self) -> dict[str, Any] | None:
        """GetInfo from a freshly loaded description (the agent draws new control URLs at
        every boot), signed for a paired agent: that read also confirms a new version."""
        location = str(self.entry.data[CONF_LOCATION])
        with contextlib.suppress(*TRANSPORT_ERRORS):
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                device = await async_load_appliance(self.hass, location)
                if device.has_service(AGENT_INFO):
                    result = await device.service(AGENT_INFO).action("GetInfo").async_call()
                    return dict(result)
        return None

    async def _async_wait(self, version: str, old_boot: Any) -> None:
        """Until the agent runs `version` confirmed, or rolled it back (bounded)."""
        deadline = time.monotonic() + UPDATE_WAIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(UPDATE_POLL_S)
            info = await self._async_get_info()
            if info is None or info.get("BootId") == old_boot:
                continue  # still restarting
            outcome = str(info.get("UpdateResult") or "")
            if outcome == f"rolled_back {version}":
                raise self._error("update_rolled_back", version=version)
            if info.get("FirmwareVersion") == version and outcome == f"ok {version}":
                return
        raise self._error("update_timeout", version=version)
