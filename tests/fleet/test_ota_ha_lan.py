"""Over-the-air updates from real Home Assistant to the real agent on the simulated LAN.

The board runs like a board (tests/lan/agent.py start_board: its loader, the .mpy bundle
of the running version in slot a, the 32-bit build, restarted on every reset). Home
Assistant pairs with it, finds bundles in the directory set in the agent's options and
installs: the entity shows the new version once the agent came back and confirmed it. A
downgrade needs the version named and "allow downgrade"; a bundle whose agent does not
start rolls back, and Home Assistant reports it while the entity stays on the old
version; a damaged bundle is not even sent.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from custom_components.upnp_guard.appliance.const import CONF_ALLOW_DOWNGRADE, CONF_BUNDLE_DIR
from tests.integration.test_agent_lan import in_thread
from tests.integration.test_paired_agent_lan import _pair_flow
from tests.lan.agent import SupervisedAgent
from tests.lan.waits import wait_for

from .ota import KEY, NEW, OLD, build, provision

Start = Callable[..., SupervisedAgent]

pytestmark = pytest.mark.lan

ENTITY = "update.shed_agent_firmware"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ota-ha-dist")
    return {OLD: build(out, OLD), NEW: build(out, NEW), "broken": build(out, NEW, broken=True)}


async def _paired(hass: HomeAssistant, boards: Start, board_root: Path, bundle: Path) -> Any:
    assert await async_setup_component(hass, "homeassistant", {})
    board = provision(board_root, bundle)
    agent = await in_thread(boards, board, "shed", key=KEY)
    result = await _pair_flow(hass)
    key = base64.b64encode(KEY).decode()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"key": key})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    return agent, board, result["result"]


async def _options(hass: HomeAssistant, entry: Any, directory: Path, downgrade: bool) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "agent"}
    )
    assert result["step_id"] == "agent"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_BUNDLE_DIR: str(directory), CONF_ALLOW_DOWNGRADE: downgrade}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()


async def _refresh(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": ENTITY}, blocking=True
    )


def _attr(hass: HomeAssistant, name: str) -> Any:
    state = hass.states.get(ENTITY)
    return None if state is None else state.attributes.get(name)


async def _install(hass: HomeAssistant, version: str | None = None) -> None:
    data: dict[str, Any] = {"entity_id": ENTITY}
    if version is not None:
        data["version"] = version
    await hass.services.async_call("update", "install", data, blocking=True)


@pytest.mark.usefixtures("ha_host", "enable_custom_integrations")
async def test_update_installs_and_a_downgrade_needs_the_version_and_the_option(
    hass: HomeAssistant, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    agent, board, entry = await _paired(hass, boards, tmp_path / "board", dist[OLD])
    offered = tmp_path / "bundles"
    offered.mkdir()
    for version in (OLD, NEW):
        shutil.copytree(dist[version], offered / dist[version].name)
    (offered / dist[NEW].name / "NOTES.md").write_text("Faster pairing.\n\nDetails follow.")
    await _options(hass, entry, offered, downgrade=False)
    await _refresh(hass)
    assert hass.states.get(ENTITY).state == "on"
    assert _attr(hass, "installed_version") == OLD
    assert _attr(hass, "latest_version") == NEW
    assert _attr(hass, "release_summary") == "Faster pairing.\n\nDetails follow."

    await _install(hass)
    assert board.boot()["slot"] == "b"
    assert board.boot()["last_result"] == f"ok {NEW}"
    assert agent.resets == 1
    await wait_for(lambda: _attr(hass, "installed_version") == NEW, "the new version shown")
    assert hass.states.get(ENTITY).state == "off"

    # Back to the old version: only by name, and only with "allow downgrade".
    with pytest.raises(HomeAssistantError, match="not newer"):
        await _install(hass, OLD)
    assert board.boot()["slot"] == "b"
    await _options(hass, entry, offered, downgrade=True)
    await _install(hass, OLD)
    assert board.boot()["slot"] == "a"
    assert board.boot()["last_result"] == f"ok {OLD}"
    await wait_for(lambda: _attr(hass, "installed_version") == OLD, "the old version again")
    await _stop(hass, entry, agent)


@pytest.mark.usefixtures("ha_host", "enable_custom_integrations")
async def test_an_update_that_does_not_start_rolls_back_and_is_reported(
    hass: HomeAssistant, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    agent, board, entry = await _paired(hass, boards, tmp_path / "board", dist[OLD])
    await _options(hass, entry, dist["broken"], downgrade=False)
    await _refresh(hass)
    assert _attr(hass, "latest_version") == NEW
    with pytest.raises(HomeAssistantError, match="rolled back") as raised:
        await _install(hass)
    assert raised.value.translation_key == "update_rolled_back"
    # Reset after the commit, reset by the broken import, then the rollback boot.
    assert agent.resets == 2
    assert "broken on purpose" in agent.output_all()
    assert board.boot() == {"slot": "a", "trial": False, "last_result": f"rolled_back {NEW}"}
    await wait_for(lambda: hass.states.get(ENTITY).state == "on", "entity back")
    assert _attr(hass, "installed_version") == OLD
    await _stop(hass, entry, agent)


@pytest.mark.usefixtures("ha_host", "enable_custom_integrations")
async def test_a_damaged_bundle_is_not_sent(
    hass: HomeAssistant, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    agent, board, entry = await _paired(hass, boards, tmp_path / "board", dist[OLD])
    damaged = tmp_path / "bundles" / dist[NEW].name
    shutil.copytree(dist[NEW], damaged)
    core = damaged / "upnpguard" / "core.mpy"
    data = bytearray(core.read_bytes())
    data[-1] ^= 0xFF
    core.write_bytes(bytes(data))
    await _options(hass, entry, damaged.parent, downgrade=False)
    await _refresh(hass)
    before = board.flash()
    with pytest.raises(HomeAssistantError, match="damaged"):
        await _install(hass)
    assert board.flash() == before  # not even the staging slot: nothing was sent
    assert _attr(hass, "installed_version") == OLD
    assert _attr(hass, "in_progress") is False
    await _stop(hass, entry, agent)


async def _stop(hass: HomeAssistant, entry: Any, agent: SupervisedAgent) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await in_thread(agent.stop)
