"""Over-the-air updates against the real agent on the simulated LAN, without Home
Assistant: a control point speaks the update protocol directly (tests/fleet/ota.py). The
board runs like a board: its /main.py (the loader) from a directory standing in for the
flash, the agent's .mpy bundle from slot a on the 32-bit build, restarted on every reset.

Refusals (wrong key, tampered file, open mode) leave everything outside the staging slot
as it was and the agent keeps serving; a transfer cut by SIGKILL leaves the old version
running after the restart; the transfer fits the 64 KB heap of the frozen build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.upnp_guard.appliance import bundle as bundles
from tests.firmware.e2e import status
from tests.lan import Lan
from tests.lan.agent import AGENT_HEAP, Board, SupervisedAgent

from .ota import (
    BOARD_CONFIG,
    KEY,
    NEW,
    OLD,
    UpdateClient,
    build,
    corrupt,
    fault,
    provision,
)

Start = Callable[..., SupervisedAgent]

pytestmark = pytest.mark.lan


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ota-dist")
    return {OLD: build(out, OLD), NEW: build(out, NEW)}


def outside_staging(flash: dict[str, str]) -> dict[str, str]:
    return {path: digest for path, digest in flash.items() if not path.startswith("ug/b/")}


def test_wrong_key_and_tampered_bundles_are_refused_and_the_old_version_stays(
    lan: Lan, lan_sockets: None, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    board = provision(tmp_path / "board", dist[OLD])
    agent = boards(board, key=KEY)
    client = UpdateClient(lan.add_host("ha"), agent)
    assert client.info()["FirmwareVersion"] == OLD
    new = bundles.read_bundle(dist[NEW])
    files = bundles.read_files(new)
    before = board.flash()

    # Signed with another key: refused at BeginUpdate, before the staging slot is touched.
    response = client.begin(new, auth_key=bytes(32))
    assert fault(response) == 710
    assert board.flash() == before
    # Nothing can be written without a begun update.
    assert fault(client.write("manifest.json", 0, "e30=")) == 712

    # The right key, one file's byte flipped: refused once that file is complete.
    assert status(client.begin(new)) == 200
    bad = corrupt(files, "upnpguard/core.mpy")
    response = client.send_all(new, bad)
    assert fault(response) == 715
    assert fault(client.call("CommitUpdate")) == 712  # the update was dropped
    assert outside_staging(board.flash()) == before
    assert board.boot() == {"slot": "a"}

    # A manifest that is not the signed one (its bytes changed): 714.
    assert status(client.begin(new)) == 200
    tampered = bundles.Bundle(
        new.directory, new.version, new.digest, new.manifest.replace(b'"size"', b'"size" '),
        new.files, None,
    )  # fmt: skip
    assert fault(client.send_all(tampered, files)) == 714
    assert outside_staging(board.flash()) == before

    # The agent kept serving the old version throughout, and still does after a reset.
    assert client.info()["FirmwareVersion"] == OLD
    agent.kill()
    agent.restart()
    assert UpdateClient(client.host, agent).info()["FirmwareVersion"] == OLD
    assert agent.resets == 0
    agent.stop()


def test_killed_in_the_middle_of_a_transfer_keeps_the_old_version(
    lan: Lan, lan_sockets: None, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    board = provision(tmp_path / "board", dist[OLD])
    agent = boards(board, key=KEY)
    client = UpdateClient(lan.add_host("ha"), agent)
    new = bundles.read_bundle(dist[NEW])
    files = bundles.read_files(new)
    before = board.flash()
    assert status(client.begin(new)) == 200
    assert status(client.send_all(new, files, stop_after=20)) == 200
    agent.kill()  # SIGKILL: a power cut in the middle of the transfer
    assert outside_staging(board.flash()) == before
    agent.restart()
    client = UpdateClient(client.host, agent)
    info = client.info()
    assert info["FirmwareVersion"] == OLD
    assert info["UpdateResult"] == ""
    assert board.boot() == {"slot": "a"}
    # The update does not resume from the half-written slot: it starts over, and works.
    assert fault(client.write("upnpguard/core.mpy", 0, "AAAA")) == 712
    assert status(client.begin(new)) == 200
    assert status(client.send_all(new, files)) == 200
    assert status(client.call("CommitUpdate")) == 200
    agent.wait_ready(3, timeout=60)  # the start, the restart by hand, the reset
    assert agent.resets == 1
    assert UpdateClient(client.host, agent).info()["FirmwareVersion"] == NEW
    assert board.boot()["last_result"] == f"ok {NEW}"  # that signed GetInfo confirmed it
    agent.stop()


def test_open_mode_agent_refuses_updates(
    lan: Lan, lan_sockets: None, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    config = {**BOARD_CONFIG, "security_mode": "open"}
    board = provision(tmp_path / "board", dist[OLD], config)
    agent = boards(board)
    client = UpdateClient(lan.add_host("pc"), agent, key=None)  # open mode: nothing signed
    new = bundles.read_bundle(dist[NEW])
    before = board.flash()
    assert fault(client.begin(new)) == 606
    assert fault(client.send_all(new, bundles.read_files(new))) == 712
    assert fault(client.call("CommitUpdate")) == 712
    assert board.flash() == before
    assert client.info()["FirmwareVersion"] == OLD
    agent.stop()


def test_the_transfer_fits_the_64_kb_heap_of_the_frozen_build(
    lan: Lan, lan_sockets: None, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    # A board with the custom image (agent frozen) and no slot yet: its first update goes
    # to slot a. The heap is the board's 64 KB; a MemoryError would be a 603 fault or a
    # task restart.
    board = Board(tmp_path / "board")
    board.provision(dict(BOARD_CONFIG), key=KEY)
    agent = boards(board, key=KEY, heap=AGENT_HEAP)
    client = UpdateClient(lan.add_host("ha"), agent)
    new = bundles.read_bundle(dist[NEW])
    assert status(client.begin(new)) == 200
    assert status(client.send_all(new, bundles.read_files(new))) == 200
    stats = agent.stats()
    print("heap peak during the transfer:", stats["heap_peak"], "live:", stats["heap_live"])
    assert stats["heap_peak"] <= 64 * 1024
    assert stats["task_restarts"] == 0
    assert "upnp-603" not in stats["refused"]
    assert status(client.call("CommitUpdate")) == 200
    # The .mpy bundle does not fit 64 KB (112 KB needed): the trial boot fails, and the
    # loader's next boot goes back to the frozen agent.
    agent.wait_ready(2, timeout=60)
    assert board.boot()["last_result"] == f"rolled_back {NEW}"
    assert "slot" not in board.boot() or board.boot()["slot"] is None
    assert UpdateClient(client.host, agent).info()["FirmwareVersion"] == OLD
    agent.stop()


def test_a_new_version_nobody_confirms_rolls_back(
    lan: Lan, lan_sockets: None, dist: dict[str, Path], tmp_path: Path, boards: Start
) -> None:
    # The new version starts and serves, but no authenticated request reaches it before
    # its deadline (3 s in this build instead of 120 s): it resets, the loader goes back.
    unconfirmed = build(tmp_path, NEW, confirm_s=3)
    board = provision(tmp_path / "board", dist[OLD])
    agent = boards(board, key=KEY)
    client = UpdateClient(lan.add_host("ha"), agent)
    new = bundles.read_bundle(unconfirmed)
    assert status(client.begin(new)) == 200
    assert status(client.send_all(new, bundles.read_files(new))) == 200
    assert status(client.call("CommitUpdate")) == 200
    agent.wait_ready(3, timeout=60)  # the start, the trial, the rollback
    output = agent.output_all()
    assert f"UPnP Guard {NEW} on" in output
    assert "update not confirmed in 3 s: rolling back" in output
    assert board.boot() == {"slot": "a", "trial": False, "last_result": f"rolled_back {NEW}"}
    info = UpdateClient(client.host, agent).info()
    assert info["FirmwareVersion"] == OLD
    assert info["UpdateResult"] == f"rolled_back {NEW}"
    assert agent.resets == 2
    agent.stop()
