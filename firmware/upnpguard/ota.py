# Over-the-air updates (docs/protocol.md "Updates", docs/firmware.md "Over-the-air
# updates"): AgentInfo's BeginUpdate / WriteUpdate / CommitUpdate receive a bundle (the
# fleet contract's manifest.json first, then its files) into the slot that does not run,
# verify it and switch /ug/boot.json to it; firmware/ugboot.py (the loader) tries it once and
# rolls back unless the new agent confirms it (confirm(): an authenticated request from
# Home Assistant within limits.UPDATE_CONFIRM_S).
#
# This module is what every boot needs (the slot that runs, the trial and its
# confirmation); receiving an update is ota_receive.py, imported on the first BeginUpdate:
# where modules are not frozen (from source, or a .mpy bundle in a slot) their bytecode
# lives on the heap, and most boots never receive an update.
import json
import os

from . import log


def _is_dir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def _makedirs(path):
    built = ""
    for part in path.split("/"):
        built = built + "/" + part if built or path.startswith("/") else part
        if part and not _is_dir(built):
            os.mkdir(built)


def read_boot(root):
    """/ug/boot.json as a dict ({} when missing or unreadable: the loader's default)."""
    try:
        with open(root + "/ug/boot.json") as f:
            boot = json.load(f)
    except (OSError, ValueError, MemoryError):  # as the loader: a file far too big is none
        return {}
    return boot if isinstance(boot, dict) else {}


def write_boot(root, boot):
    """Atomically: a power cut leaves the old file or the new one."""
    path = root + "/ug/boot.json"
    _makedirs(root + "/ug")
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(boot))
    os.rename(path + ".tmp", path)


class Updater:
    """One board's update state. `root`: where "/" of the board's file system is;
    `version`: the running FIRMWARE_VERSION; `allow_open`: the board config's
    "allow_open_updates" (open mode refuses updates without it)."""

    def __init__(self, root, version, allow_open=False):
        self.root = root
        self.version = version
        self.allow_open = allow_open
        boot = read_boot(root)
        self.running = boot.get("slot") or None
        self.staging = "b" if self.running == "a" else "a"
        self.trial = bool(boot.get("trial")) and self.running is not None
        self.result = str(boot.get("last_result") or "")[:48]
        self.restart = False  # set by commit(): reboot once the answer is out
        self._receiver = None  # an ota_receive.Receiver from the first BeginUpdate on

    @property
    def receiving(self):
        """The version being received, or None."""
        return self._receiver.target if self._receiver is not None else None

    def begin(self, version, digest, mac, force, key):
        """BeginUpdate (ota_receive.Receiver.begin says what is checked). A version still
        on trial is confirmed first: the update empties the other slot, which is where
        the loader would roll back to."""
        if self.trial and (key is not None or self.allow_open) and not self.confirm():
            from .ota_receive import ERR_FLASH, fault

            raise fault(ERR_FLASH)
        if self._receiver is None:
            from . import ota_receive

            self._receiver = ota_receive.Receiver(self)
        self._receiver.begin(version, digest, mac, force, key)

    def write(self, path, offset, data_b64):
        """WriteUpdate: UPnP 712 when no update was begun."""
        if self._receiver is None:
            from .ota_receive import ERR_SEQUENCE, fault

            raise fault(ERR_SEQUENCE)
        self._receiver.write(path, offset, data_b64)

    def commit(self):
        """CommitUpdate: UPnP 712 when no update was begun."""
        if self._receiver is None:
            from .ota_receive import ERR_SEQUENCE, fault

            raise fault(ERR_SEQUENCE)
        self._receiver.commit()
        self.restart = True

    # -- after a reboot into a new version -------------------------------------------------
    def confirm(self):
        """The new version served an authenticated request: keep it. False when there was
        nothing to confirm (not a trial boot, or already confirmed)."""
        if not self.trial:
            return False
        boot = read_boot(self.root)
        if boot.get("slot") != self.running:
            return False
        boot["trial"] = False
        boot["tries"] = 0
        boot["last_result"] = "ok " + self.version
        try:
            write_boot(self.root, boot)
        except OSError:
            return False  # tried again on the next request
        self.trial = False
        self.result = boot["last_result"]
        log.info("update to", self.version, "confirmed")
        return True
