# UPnP Guard's loader: main.py (what MicroPython runs at boot) imports this module, takes
# `main` from it and drops it before the agent runs, so the loader's bytecode (compiled
# from source onto the heap) does not stay there for the board's life: 4.7 KB on the
# 32-bit build with the agent frozen in, when it ran as main.py itself. On the unix port:
# micropython firmware/main.py --config board.json --state DIR --ip A.B.C.D/N, or with a
# board's file system in a directory: --root DIR (config from DIR/config.json, state in
# DIR/state). A build with the agent frozen in (firmware/manifest.py) may also run
# `-m upnpguard.agent` directly (no slots, no updates).
#
# The loader (docs/firmware.md "Over-the-air updates") is never replaced by an update:
# /ug/boot.json names the slot (/ug/a or /ug/b) whose bundle runs, first on sys.path
# (before the frozen modules). A new version runs on trial: the loader counts its boots
# ("tries", written before the import) and rolls back to the previous slot when it boots
# a trial a second time (the new agent never confirmed itself: it crashed, hung or was
# not reached by Home Assistant within UPDATE_CONFIRM_S). No /ug/boot.json: the agent in a
# ROMFS (/rom, see _romfs: bytecode runs from flash), else the frozen or source modules.
import json
import sys

try:
    from micropython import opt_level

    # Level 3 drops line numbers and asserts from the bytecode compiled from here on
    # (this file's own functions are compiled already; the agent's modules, when they are
    # compiled from source, about 2 KB of heap on the unix port; nothing when frozen).
    opt_level(3)
except ImportError:  # CPython (the firmware's type check reads this file)
    pass

_root = ""
_argv = sys.argv
for _i in range(1, len(_argv) - 1):
    if _argv[_i] == "--root":
        _root = _argv[_i + 1].rstrip("/")
if _root:
    if "--config" not in _argv:
        _argv.extend(("--config", _root + "/config.json"))
    if "--state" not in _argv:
        _argv.extend(("--state", _root + "/state"))


def _reset():
    if sys.platform == "esp32":
        import machine

        machine.reset()
    sys.exit(1)  # the unix port's reset (hal/unix.py); the test harness restarts it


_trial = False  # whether the slot _boot returns runs on trial


def _stop():
    """Nothing else to run: stop at the REPL instead of resetting, which would fail the
    same way on every boot (the heap and the files at boot do not change); there mpremote
    reaches the board to provision it again. Returns the `main` that main.py then calls:
    one that does nothing, so main.py ends (on a board, SystemExit from main.py would be a
    soft reset: ports/esp32/main.c); the unix port exits with status 2 instead."""
    print("[E] nothing to run: stopped; provision the board again")
    if sys.platform != "esp32":
        sys.exit(2)
    return lambda: None


def _boot():
    """The slot to run (None: frozen or source modules), after the trial bookkeeping."""
    global _trial
    path = _root + "/ug/boot.json"
    try:
        with open(path) as f:
            boot = json.load(f)
    except (OSError, ValueError, MemoryError):  # MemoryError: never a file the updater wrote
        return None
    if not isinstance(boot, dict) or boot.get("slot") not in ("a", "b"):
        return None
    if boot.get("trial"):
        tries = boot.get("tries", 0)
        if not isinstance(tries, int) or tries >= 1:  # a count that is not one: tried
            # A trial that did not confirm itself: back to the slot that ran before.
            print("[E] update", boot.get("version"), "not confirmed: rolling back")
            previous = boot.get("previous")
            boot = {
                # Never back into the slot on trial (a boot.json the updater did not write).
                "slot": previous if previous != boot.get("slot") else None,
                "trial": False,
                "last_result": "rolled_back " + str(boot.get("version"))[:20],
            }
        else:
            boot["tries"] = tries + 1
        if not _write(path, boot) and boot.get("trial"):
            # Its boots cannot be counted: a trial that crashed would be tried forever.
            print("[E] update", boot.get("version"), "not tried: boot.json is not writable")
            previous = boot.get("previous")
            boot = {"slot": previous if previous != boot.get("slot") else None}
    slot = boot.get("slot")
    _trial = boot.get("trial") is True
    if slot in ("a", "b") and not _intact(_root + "/ug/" + slot):
        # Verified when it was written, changed on flash since: run the slot that ran
        # before it if that one is whole, else the agent the board has without a slot
        # (ROMFS, frozen). boot.json says so, so the updater writes the next update over
        # the damaged slot, never over the one that runs.
        previous = boot.get("previous")
        if previous not in ("a", "b") or previous == slot or not _intact(_root + "/ug/" + previous):
            previous = None
        print("[E] slot", slot, "damaged: running", previous or "the agent without a slot")
        _write(path, {"slot": previous, "trial": False, "last_result": "damaged " + slot})
        slot = previous
        _trial = False
    return slot if slot in ("a", "b") else None


def _write(path, boot):
    """Atomically (a temporary file renamed over it); False when the flash refuses the
    write (full, worn, read-only)."""
    import os

    try:
        with open(path + ".tmp", "w") as f:
            f.write(json.dumps(boot))
        os.rename(path + ".tmp", path)
    except OSError as err:
        print("[E] cannot write", path, err)
        return False
    return True


def _intact(base):
    """Whether the bundle under `base` (a slot, or /rom) is whole: every file matches the
    SHA-256 its manifest.json lists and no other file is there (one would be imported
    ahead of the frozen modules; flash wears, a copy may stop half-way). A damaged bundle
    is not run."""
    import hashlib
    import os
    from binascii import hexlify

    def walk(rel):  # every file under base/rel, as a manifest path
        for name in os.listdir(base + "/" + rel if rel else base):
            path = rel + "/" + name if rel else name
            if os.stat(base + "/" + path)[0] & 0x4000:
                yield from walk(path)
            elif path != "manifest.json":
                yield path

    try:
        with open(base + "/manifest.json") as f:
            files = json.load(f)["files"]
        listed = [entry["path"] for entry in files]
        present = 0
        unlisted = None
        for path in walk(""):  # to the first file not listed (never a list of the tree)
            if path not in listed:
                unlisted = path
                break
            present += 1
    except (OSError, ValueError, KeyError, TypeError, MemoryError, RuntimeError):
        # MemoryError: a manifest or a tree too big (or too deep) for the heap, which a
        # bundle never is; RuntimeError: a directory tree deeper than the stack.
        print("[E] bundle in", base, "damaged: no readable manifest")
        return False
    if unlisted is not None or not present:
        print("[E] bundle in", base, "damaged: a file not in its manifest:", str(unlisted)[:80])
        return False
    chunk = bytearray(256)  # a file is hashed a chunk at a time: the heap cost is flat
    view = memoryview(chunk)
    for entry in files:
        try:
            digest = hashlib.sha256()
            with open(base + "/" + entry["path"], "rb") as f:
                while True:
                    n = f.readinto(chunk)
                    if not n:
                        break
                    digest.update(view[:n])
            intact = hexlify(digest.digest()).decode() == entry["sha256"]
        except (OSError, KeyError, TypeError, MemoryError):
            intact = False
        if not intact:
            print("[E] bundle in", base, "damaged:", str(entry)[:80])
            return False
    return True


def _romfs():
    """Whether a ROMFS holds the agent, whole (_intact): its .mpy bytecode then runs in
    place from flash (nothing copied to the heap). A board whose MicroPython image has
    ROMFS enabled mounts the partition at /rom itself; on the unix port the partition is
    an image file mapped like flash (firmware/unix_modules/ugrom): `--romfs FILE`, or
    romfs.img in the board directory (--root)."""
    image = _root + "/romfs.img" if _root else None
    for i in range(1, len(_argv) - 1):
        if _argv[i] == "--romfs":
            image = _argv[i + 1]
    import os

    try:
        if image is not None and sys.platform != "esp32":
            os.stat(image)
            import ugrom  # type: ignore[import-not-found]  # the unix port's only
            import vfs

            # VfsRom: in images built with ROMFS (not in the ESP32 stubs' stock image).
            vfs.mount(vfs.VfsRom(ugrom.segment(image)), "/rom")  # type: ignore[attr-defined]
        os.stat("/rom/manifest.json")
    except (OSError, ValueError):
        return False  # no ROMFS, or not one holding a bundle
    return _intact("/rom")


_slot = _boot()
_rom = _slot is None and _romfs()
if _slot is not None:
    sys.path.insert(0, _root + "/ug/" + _slot)
elif _rom:
    sys.path.insert(0, "/rom")
else:
    try:
        _here = __file__.rpartition("/")[0]
        if _here and _here not in sys.path:
            sys.path.insert(0, _here)
    except NameError:
        pass

import gc  # noqa: E402


def _start():
    """The agent's main(), its modules imported one at a time: compiling a module from
    source needs a few KB of transient heap, and a collection in between keeps that peak
    low on a small heap (frozen modules are not compiled at all and this costs nothing)."""
    for name in (
        "upnpguard.compat",
        "upnpguard.limits",
        "upnpguard.log",
        "upnpguard.xmlutil",
        "upnpguard.servicetypes",
        "upnpguard.http",
        "upnpguard.ipv4",
        "upnpguard.gena",
        "upnpguard.ssdp",
        "upnpguard.responder",
        "upnpguard.devices",
        "upnpguard.description",
        "upnpguard.soap",
        "upnpguard.ota",
        "upnpguard.core",
        "asyncio",
        "upnpguard.sockio",
        "upnpguard.httpserver",
        "upnpguard.shell",
        "hal",
        "upnpguard.agent",
    ):
        __import__(name)
        gc.collect()
    from upnpguard.agent import main

    return main


try:
    main = _start()
except Exception as _err:
    print("[E] agent does not start:", type(_err).__name__, _err)
    if _trial:
        _reset()  # the next boot rolls back
    if _slot is None and not _rom:
        main = _stop()  # the frozen or source agent itself: nothing else to run
    else:
        # A whole bundle that does not load (its .mpy made for another MicroPython, after
        # the board's was flashed again): resetting would do the same forever, so the
        # agent without a slot (frozen) runs instead, on every boot until an update
        # replaces it.
        print("[E] running the agent without a slot")
        sys.path.pop(0)
        for _name in list(sys.modules):
            if _name.split(".")[0] in ("upnpguard", "hal", "asyncio"):
                del sys.modules[_name]
        gc.collect()
        try:
            main = _start()
        except Exception as _err:
            print("[E] agent does not start:", type(_err).__name__, _err)
            main = _stop()
