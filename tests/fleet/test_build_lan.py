"""The built .mpy bundle runs: the real agent, imported from the bundle directory (not the
sources, not the frozen copy), on the simulated LAN, serves its description and a SOAP
action. Stock Debian micropython (64-bit) and the 32-bit build, where the bundle comes
before the frozen agent on sys.path; and the same bundle as a ROMFS image the loader
mounts at /rom (firmware/main.py --romfs), its bytecode run in place."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from mpremote.romfs import make_romfs  # type: ignore[import-untyped]
from upnp_guard_fleet.bundle import build_bundle, firmware_version
from upnp_guard_fleet.provision import main as provision
from upnp_guard_fleet.romfs import build_romfs

from tests.firmware.e2e import SWITCH_POWER, description, exchange, set_target, soap, status
from tests.fleet.build_fixtures import lan_sockets  # noqa: F401 - fixtures
from tests.lan import Lan
from tests.lan.agent import (
    AGENT_HTTP_PORT,
    BUILDS,
    DEFAULT_BUILD,
    DEFAULT_CONFIG,
    SLOT_HEAP,
    Board,
    SupervisedAgent,
    binary_for,
    start_agent,
    start_board,
)

pytestmark = pytest.mark.lan

REPO = Path(__file__).resolve().parents[2]
# A version no source or frozen copy has: what the agent reports proves where it came from.
BUNDLE_VERSION = "7.7.7"
FIRMWARE_VERSION = firmware_version(REPO / "firmware")


@pytest.fixture(scope="module")
def bundle_777(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(REPO / "firmware", tmp_path_factory.mktemp("dist"), version=BUNDLE_VERSION)


@pytest.mark.parametrize("build", ["mpy", "mpy-32", "romfs-32"])
def test_agent_runs_from_the_bundle(
    lan: Lan, lan_sockets: None, bundle_777: Path, build: str
) -> None:
    agent = start_agent(lan, build=build, bundle=bundle_777)
    assert f"UPnP Guard {BUNDLE_VERSION} on" in agent.process.output()
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    assert f"<modelNumber>{BUNDLE_VERSION}</modelNumber>" in desc
    response = exchange(pc, agent, set_target(agent, desc, 1))
    assert status(response) == 200, response[:300]
    assert agent.pins()["5"] == 1
    response = exchange(pc, agent, soap(agent, desc, SWITCH_POWER, "GetStatus"))
    assert b"<ResultStatus>1</ResultStatus>" in response
    # Imported from the bundle's .mpy files, nothing compiled from source.
    assert "Traceback" not in agent.process.output()
    agent.stop()


def test_a_bundle_build_needs_a_bundle(lan: Lan) -> None:
    with pytest.raises(ValueError, match="needs"):
        start_agent(lan, build="mpy")


def test_the_loader_runs_the_agent_from_the_boards_romfs(
    lan: Lan, lan_sockets: None, bundle_777: Path, tmp_path: Path
) -> None:
    """A board provisioned with `upnp-guard-provision --romfs` (its ROMFS partition: here
    romfs.img in its directory): the loader checks the image and runs the agent from it,
    ahead of the frozen copy."""
    config = tmp_path / "board.json"
    config.write_text(json.dumps(DEFAULT_CONFIG))
    flash = lan.workdir / "board"
    args = ["--bundle", str(bundle_777), "--config", str(config), "--wifi-ssid", "Home",
            "--target-dir", str(flash), "--romfs"]  # fmt: skip
    assert provision(args) == 0
    assert not (flash / "ug").exists()
    agent = start_board(lan, Board(flash), heap=BUILDS["romfs-32"].heap)
    assert f"UPnP Guard {BUNDLE_VERSION} on" in agent.process.output()
    assert "damaged" not in agent.process.output()
    pc = lan.add_host("pc")
    assert f"<modelNumber>{BUNDLE_VERSION}</modelNumber>" in description(pc, agent)
    agent.stop()


def _flip_a_byte_of_log_mpy(bundle: Path, image: bytes) -> bytes:
    module = (bundle / "upnpguard" / "log.mpy").read_bytes()
    at = image.find(module)
    assert at > 0
    damaged = bytearray(image)
    damaged[at + len(module) // 2] ^= 0xFF
    return bytes(damaged)


def _drop_log_mpy_from_the_manifest(bundle: Path, image: bytes) -> bytes:
    copy = bundle.parent / "unlisted"
    shutil.copytree(bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"] = [f for f in manifest["files"] if f["path"] != "upnpguard/log.mpy"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with contextlib.redirect_stdout(io.StringIO()):
        return bytes(make_romfs(str(copy), mpy_cross=False))


@pytest.mark.parametrize(
    "damage", [_flip_a_byte_of_log_mpy, _drop_log_mpy_from_the_manifest], ids=["byte", "unlisted"]
)
def test_a_damaged_romfs_is_not_run(
    lan: Lan, lan_sockets: None, bundle_777: Path, damage: Callable[[Path, bytes], bytes]
) -> None:
    """One byte of one .mpy changed on flash, or a module its manifest does not list: the
    loader says so and runs the frozen agent instead (no crash, no reset loop)."""
    image = build_romfs(bundle_777, lan.workdir / "777.romfs").read_bytes()
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG)
    (board.root / "romfs.img").write_bytes(damage(bundle_777, image))
    agent = start_board(lan, board, heap=BUILDS["romfs-32"].heap)
    output = agent.process.output()
    assert "[E] bundle in /rom damaged" in output
    assert "upnpguard/log.mpy" in output
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in output
    pc = lan.add_host("pc")
    assert f"<modelNumber>{FIRMWARE_VERSION}</modelNumber>" in description(pc, agent)
    agent.stop()


def _flip_a_byte(module: Path) -> None:
    data = bytearray(module.read_bytes())
    data[len(data) // 2] ^= 0xFF
    module.write_bytes(bytes(data))


def _add_a_module(module: Path) -> None:
    # Not listed: it would shadow the frozen asyncio (the slot comes first on sys.path).
    (module.parents[1] / "asyncio.mpy").write_bytes(module.read_bytes())


def _link_to_the_root(module: Path) -> None:
    # Unix only (a board's LittleFS has no links): the check stops at the first file the
    # manifest does not list, it does not walk the whole file system behind the link.
    (module.parents[1] / "up").symlink_to("/")


@pytest.mark.parametrize(
    ("previous", "damage"),
    [("a", _flip_a_byte), (None, _flip_a_byte), ("a", _add_a_module), ("a", _link_to_the_root)],
    ids=["byte-previous", "byte-no-previous", "unlisted-previous", "link-to-root"],
)
def test_a_damaged_slot_is_not_run(
    lan: Lan,
    lan_sockets: None,
    bundle_777: Path,
    previous: str | None,
    damage: Callable[[Path], None],
) -> None:
    """A slot's file changed on flash after the update that wrote it was verified: the
    loader runs the slot that ran before it (when there is one and it is whole), else the
    agent without a slot (here the frozen one), and rewrites /ug/boot.json so that the
    next update goes over the damaged slot, never over the one that runs."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG, bundle=bundle_777)  # slot a
    damaged = "b" if previous else "a"
    if previous:
        shutil.copytree(bundle_777, board.root / "ug" / "b")
        (board.root / "ug" / "boot.json").write_text(json.dumps({"slot": "b", "previous": "a"}))
    damage(board.root / "ug" / damaged / "upnpguard" / "log.mpy")
    agent = start_board(lan, board)
    output = agent.process.output()
    assert f"[E] bundle in {board.root}/ug/{damaged} damaged" in output
    assert f"[E] slot {damaged} damaged: running {previous or 'the agent without a slot'}" in output
    if damage is _link_to_the_root:  # named at once, not an error deep in the walk behind it
        assert "damaged: a file not in its manifest: up/" in output
    runs = BUNDLE_VERSION if previous else FIRMWARE_VERSION
    assert f"UPnP Guard {runs} on" in output
    assert board.boot() == {"slot": previous, "trial": False, "last_result": f"damaged {damaged}"}
    pc = lan.add_host("pc")
    assert f"<modelNumber>{runs}</modelNumber>" in description(pc, agent)
    agent.stop()


def _grow_by_a_megabyte(module: Path) -> None:
    # Read whole, a file this size does not fit the heap: the check hashes it in chunks.
    with module.open("ab") as f:
        f.write(b"\0" * 1024 * 1024)


def _a_manifest_too_big_for_the_heap(module: Path) -> None:
    manifest = module.parents[1] / "manifest.json"
    loaded = json.loads(manifest.read_text())
    loaded["pad"] = "x" * 512 * 1024
    manifest.write_text(json.dumps(loaded))


def _a_manifest_nested_deep(module: Path) -> None:
    (module.parents[1] / "manifest.json").write_text(
        '{"files": ' + "[" * 50_000 + "]" * 50_000 + "}"
    )


@pytest.mark.parametrize(
    "damage",
    [_grow_by_a_megabyte, _a_manifest_too_big_for_the_heap, _a_manifest_nested_deep],
    ids=["huge-file", "huge-manifest", "deep-manifest"],
)
def test_a_slot_too_big_to_check_is_damaged_not_a_crash(
    lan: Lan, lan_sockets: None, bundle_777: Path, damage: Callable[[Path], None]
) -> None:
    """A slot whose check would not fit a 64 KB heap (a file grown on flash, a manifest
    far bigger or deeper than any the build writes): the loader counts it damaged and
    runs the agent without a slot, instead of stopping on a MemoryError before any agent
    runs (on a board: main.py ends at the REPL; on the unix port: a restart loop)."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG, bundle=bundle_777)  # slot a
    damage(board.root / "ug" / "a" / "upnpguard" / "log.mpy")
    agent = start_board(lan, board)
    output = agent.process.output()
    assert f"[E] bundle in {board.root}/ug/a damaged" in output
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in output
    assert board.boot() == {"slot": None, "trial": False, "last_result": "damaged a"}
    agent.stop()


@pytest.mark.parametrize(
    "boot",
    [
        {"slot": "a", "trial": True, "tries": 1, "previous": "a"},
        {"slot": "a", "trial": True, "tries": "1"},
        {"slot": "a", "trial": True, "tries": None, "previous": "a"},
    ],
    ids=["previous-is-itself", "tries-a-string", "tries-null"],
)
def test_a_trial_boot_json_the_updater_did_not_write(
    lan: Lan, lan_sockets: None, bundle_777: Path, boot: dict[str, object]
) -> None:
    """/ug/boot.json names a trial whose `previous` is the trial slot itself, or whose
    `tries` is not a number: the loader rolls back to the agent without a slot (never back
    into the unconfirmed slot, now marked as no trial, which would reset forever if it
    crashes; never a TypeError before any agent runs)."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG, bundle=bundle_777)  # slot a
    (board.root / "ug" / "boot.json").write_text(json.dumps(boot))
    agent = start_board(lan, board)
    output = agent.process.output()
    assert "not confirmed: rolling back" in output
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in output
    assert board.boot()["slot"] is None
    agent.stop()


def test_a_boot_json_too_big_for_the_heap_names_no_slot(
    lan: Lan, lan_sockets: None, bundle_777: Path
) -> None:
    """A /ug/boot.json far bigger than the updater writes (flash damage): the loader and the
    agent's updater both read it as none (the agent without a slot runs and serves)."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG, bundle=bundle_777)  # slot a
    (board.root / "ug" / "boot.json").write_text(json.dumps({"slot": "a", "pad": "x" * 300_000}))
    agent = start_board(lan, board)
    output = agent.process.output()
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in output
    pc = lan.add_host("pc")
    assert f"<modelNumber>{FIRMWARE_VERSION}</modelNumber>" in description(pc, agent)
    agent.stop()


def _made_for_another_micropython(bundle: Path) -> Path:
    """A copy of `bundle` whose log.mpy has another .mpy version in its header, its
    manifest listing the new SHA-256 (whole, as after the board's MicroPython was flashed
    again with a version that cannot load it)."""
    copy = bundle.parent / "other-mpy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(bundle, copy)
    module = copy / "upnpguard" / "log.mpy"
    data = bytearray(module.read_bytes())
    data[1] ^= 0x7F  # the .mpy version byte
    module.write_bytes(bytes(data))
    manifest = json.loads((copy / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "upnpguard/log.mpy":
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


@pytest.mark.parametrize("where", ["slot", "romfs"])
def test_a_whole_bundle_that_does_not_load_is_no_reset_loop(
    lan: Lan, lan_sockets: None, bundle_777: Path, where: str
) -> None:
    """A confirmed slot, or the ROMFS, whole but with a module this MicroPython refuses:
    resetting would fail the same way forever, so the loader runs the frozen agent in the
    same boot (a slot on trial still resets and rolls back: test_ota_agent_lan)."""
    other = _made_for_another_micropython(bundle_777)
    board = Board(lan.workdir / "board")
    if where == "slot":
        board.provision(DEFAULT_CONFIG, bundle=other)  # slot a, confirmed
    else:
        board.provision(DEFAULT_CONFIG)
        with contextlib.redirect_stdout(io.StringIO()):
            (board.root / "romfs.img").write_bytes(bytes(make_romfs(str(other), mpy_cross=False)))
    agent = start_board(lan, board)
    output = agent.process.output()
    assert "[E] agent does not start: ValueError" in output
    assert "[E] running the agent without a slot" in output
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in output
    assert agent.resets == 0
    pc = lan.add_host("pc")
    assert f"<modelNumber>{FIRMWARE_VERSION}</modelNumber>" in description(pc, agent)
    agent.stop()


def test_a_trial_that_does_not_load_resets_and_rolls_back(
    lan: Lan, lan_sockets: None, bundle_777: Path
) -> None:
    """The same bundle on trial: no fallback in that boot (the updater would read the
    trial as running and could confirm it), a reset, and the next boot rolls back."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG, bundle=_made_for_another_micropython(bundle_777))
    (board.root / "ug" / "boot.json").write_text(json.dumps({"slot": "a", "trial": True}))
    host = lan.add_host("agent")
    argv = [binary_for(DEFAULT_BUILD), "-X", f"heapsize={SLOT_HEAP}", str(board.root / "main.py")]
    argv += ["--root", str(board.root), "--ip", f"{host.ip}/{host.network.prefixlen}"]
    agent = SupervisedAgent(
        host, board, argv=argv, config=DEFAULT_CONFIG, port=AGENT_HTTP_PORT, key=None,
        cwd=str(lan.workdir),
    )  # fmt: skip  # start_board waits for the first start, which resets here
    agent.wait_ready(1)
    output = agent.output_all()
    assert "[E] agent does not start: ValueError" in output
    assert "[E] running the agent without a slot" not in output
    assert "not confirmed: rolling back" in output
    assert agent.resets == 1
    assert board.boot()["slot"] is None
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in agent.process.output()
    agent.stop()


@pytest.mark.parametrize("kind", ["fifo", "directory", "empty", "device"])
def test_a_romfs_image_that_is_no_file_is_no_romfs(lan: Lan, lan_sockets: None, kind: str) -> None:
    """romfs.img (the unix port's stand-in for the ROMFS partition, ugrom.c) is a FIFO, a
    directory, empty or a device: no ROMFS, the frozen agent runs (a FIFO used to block
    the loader until something wrote to it)."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG)
    image = board.root / "romfs.img"
    if kind == "fifo":
        os.mkfifo(image)
    elif kind == "directory":
        image.mkdir()
    elif kind == "empty":
        image.write_bytes(b"")
    else:
        image.symlink_to("/dev/zero")
    agent = start_board(lan, board, heap=BUILDS["romfs-32"].heap)
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in agent.process.output()
    agent.stop()


def test_a_trial_is_not_run_when_boot_json_cannot_be_written(
    lan: Lan, lan_sockets: None, bundle_777: Path
) -> None:
    """The loader cannot count a trial's boots (the flash refuses the write; here the
    temporary file's name is taken by a directory): it does not run the trial, which would
    be tried forever if it crashed, but the slot that ran before (here none: frozen)."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG, bundle=bundle_777)  # slot a
    trial = {"slot": "a", "previous": None, "trial": True, "tries": 0, "version": "7.7.7"}
    (board.root / "ug" / "boot.json").write_text(json.dumps(trial))
    (board.root / "ug" / "boot.json.tmp").mkdir()
    agent = start_board(lan, board)
    output = agent.process.output()
    assert "[E] cannot write" in output
    assert "[E] update 7.7.7 not tried: boot.json is not writable" in output
    assert f"UPnP Guard {FIRMWARE_VERSION} on" in output
    assert board.boot() == trial  # nothing written
    agent.stop()


def test_nothing_to_run_stops_instead_of_resetting_forever(lan: Lan, lan_sockets: None) -> None:
    """No slot, no ROMFS, and the agent without a slot does not import (here Debian's
    micropython, which has no frozen agent, on a board without the agent's files): the
    loader stops (exit 2, at the REPL on a board, where mpremote reaches it) instead of
    resetting into the same failure on every boot."""
    board = Board(lan.workdir / "board")
    board.provision(DEFAULT_CONFIG)
    host = lan.add_host("agent")
    process = host.start(
        binary_for("source"),
        "-X",
        "heapsize=104wK",
        str(board.root / "main.py"),
        "--root",
        str(board.root),
        "--ip",
        f"{host.ip}/{host.network.prefixlen}",
        label="agent",
        cwd=str(lan.workdir),
    )
    assert process.popen.wait(timeout=30) == 2
    output = process.output()
    assert "[E] agent does not start: ImportError" in output
    assert "[E] nothing to run: stopped; provision the board again" in output
