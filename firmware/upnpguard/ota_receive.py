# Receiving an over-the-air update (ota.py's Updater imports this on the first
# BeginUpdate): the authenticator, the version, the manifest and every file checked into
# the slot that does not run; /ug/boot.json switched only once all of it checked out.
#
# Everything refused is a UPnP fault with one of the codes below, and nothing outside the
# staging slot changes: /ug/boot.json is written only by commit() after every check, and
# atomically (a temporary file renamed over it). No sockets and no timers here; the file
# system is reached through the root directory given (/ on a board, --root on unix).
import hashlib
import json
import os

try:
    import binascii
except ImportError:  # pragma: no cover - every supported port has one of them
    import ubinascii as binascii

from . import auth, log
from .compat import const
from .ota import _is_dir, _makedirs, write_boot
from .servicetypes import (
    ERR_ARGUMENT_VALUE_INVALID,
    ERR_NOT_AUTHORIZED,
    UPNP_ERROR_DESCRIPTIONS,
    UpnpError,
)

# Fault codes (UPnP action-specific range 7xx; UDA 1.1 3.2.2). Their descriptions join
# servicetypes.UPNP_ERROR_DESCRIPTIONS (the SOAP fault's text) once this module is
# imported: not before, a board that never updates keeps that dict small.
ERR_BAD_AUTH = const(710)  # NewAuth is not the key's authenticator of version + digest
ERR_NOT_NEWER = const(711)  # not newer than the running version, NewForce not set
ERR_SEQUENCE = const(712)  # no update begun, a file out of order, a wrong offset
ERR_BAD_FILE = const(713)  # a path not in the manifest, or beyond its size
ERR_BAD_MANIFEST = const(714)  # manifest bytes do not hash to NewDigest, or invalid
ERR_MISMATCH = const(715)  # a file's size or SHA-256 differs, or a file is missing
ERR_FLASH = const(716)  # the file system refused a write (full, broken)
UPNP_ERROR_DESCRIPTIONS.update(
    (
        (ERR_BAD_AUTH, "Update not authentic"),
        (ERR_NOT_NEWER, "Update not newer"),
        (ERR_SEQUENCE, "Update out of sequence"),
        (ERR_BAD_FILE, "Update file refused"),
        (ERR_BAD_MANIFEST, "Update manifest refused"),
        (ERR_MISMATCH, "Update file mismatch"),
        (ERR_FLASH, "Update write failed"),
    )
)
# Limits (docs/firmware.md "Limits"; here rather than in limits.py: see there).
# One WriteUpdate carries at most this many bytes (base64: 2732 characters), so the SOAP
# envelope with its UG-AUTH header stays well inside HTTP_BODY_MAX.
CHUNK_MAX = const(2048)  # -> 713
DATA_MAX = const(2732)  # base64 characters of CHUNK_MAX bytes (the SCPD's) -> 605
MANIFEST_MAX = const(8192)  # -> 713; today's manifest is 3.3 KB (27 files)
FILES_MAX = const(64)  # -> 714
FILE_MAX = const(65536)  # one file -> 714 (the largest .mpy today is < 8 KB)
BUNDLE_MAX = const(524288)  # all files -> 714 (today 58 KB; one slot of flash)
PATH_MAX = const(64)  # -> 714 in the manifest, 605 in WriteUpdate (the SCPD's)
MANIFEST = "manifest.json"
CONTEXT = b"UG-OTA-1\n"
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./"
_HEX = "0123456789abcdef"


def fault(code):
    return UpnpError(code)


def parse_version(text):
    """`x.y.z` (decimal, at most 6 digits each, as the build command) -> (x, y, z), or
    None."""
    if not isinstance(text, str):
        return None
    parts = text.split(".")
    if len(parts) != 3:
        return None
    out = []
    for part in parts:
        if not part or len(part) > 6:
            return None
        for c in part:
            if c < "0" or c > "9":
                return None
        out.append(int(part))
    return tuple(out)


def update_auth(key, version, digest):
    """The authenticator Home Assistant sends in BeginUpdate: HMAC-SHA256 (hex) with the
    pairing key over "UG-OTA-1\\n" + version + "\\n" + digest."""
    mac = key.mac(CONTEXT + version.encode() + b"\n" + digest.encode())
    return binascii.hexlify(mac).decode()


def valid_path(path):
    """A manifest path: relative, '/'-separated, no empty, '.' or '..' part, plain
    characters only, at most PATH_MAX long, and not the manifest itself."""
    if not isinstance(path, str) or not path or len(path) > PATH_MAX:
        return False
    if path == MANIFEST:
        return False
    for c in path:
        if c not in _PATH_CHARS:
            return False
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return False
    return True


def _is_hex64(text):
    if not isinstance(text, str) or len(text) != 64:
        return False
    for c in text:
        if c not in _HEX:
            return False
    return True


def check_manifest(manifest, version):
    """The parsed manifest -> its files as [(path, size, sha256 hex)], or raise 714."""
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        raise fault(ERR_BAD_MANIFEST)
    if manifest.get("name") != "upnpguard" or manifest.get("version") != version:
        raise fault(ERR_BAD_MANIFEST)
    files = manifest.get("files")
    if not isinstance(files, list) or not files or len(files) > FILES_MAX:
        raise fault(ERR_BAD_MANIFEST)
    out = []
    seen = set()
    total = 0
    for entry in files:
        if not isinstance(entry, dict):
            raise fault(ERR_BAD_MANIFEST)
        path = entry.get("path")
        size = entry.get("size")
        sha = entry.get("sha256")
        if not valid_path(path) or path in seen or not _is_hex64(sha):
            raise fault(ERR_BAD_MANIFEST)
        if not isinstance(size, int) or isinstance(size, bool):
            raise fault(ERR_BAD_MANIFEST)
        if size < 0 or size > FILE_MAX:
            raise fault(ERR_BAD_MANIFEST)
        total += size
        seen.add(path)
        out.append((path, size, sha))
    if total > BUNDLE_MAX:
        raise fault(ERR_BAD_MANIFEST)
    return out


# -- the file system (root "" on a board) -----------------------------------------------
def _remove_tree(path):
    if not _is_dir(path):
        try:
            os.remove(path)
        except OSError:
            pass
        return
    for name in os.listdir(path):
        _remove_tree(path + "/" + name)
    os.rmdir(path)


class Receiver:
    """One update being received for `updater` (an ota.Updater: the root, the running
    version and slot, whether open mode may update)."""

    def __init__(self, updater):
        self.root = updater.root
        self.version = updater.version
        self.allow_open = updater.allow_open
        self.running = updater.running
        self.staging = updater.staging
        self._reset()

    def _reset(self):
        self.target = None  # the version being received
        self.digest = None
        self.files = None  # [(path, size, sha)] once the manifest checked out
        self.done = 0  # files of self.files received and verified
        self.path = None  # the file being written, its length so far and its hash
        self.length = 0
        self.hash = None

    def _slot_path(self, path=""):
        base = self.root + "/ug/" + self.staging
        return base + "/" + path if path else base

    # -- the actions ---------------------------------------------------------------------
    def begin(self, version, digest, mac, force, key):
        """`key`: the pairing key (an auth.Key) that must have signed `version` and
        `digest`; None in open mode, where updates are integrity-checked only and need
        "allow_open_updates" (anyone on the LAN could then replace the firmware)."""
        if key is None and not self.allow_open:
            raise UpnpError(ERR_NOT_AUTHORIZED, "updates refused in open mode")
        new = parse_version(version)
        if new is None or not _is_hex64(digest):
            raise UpnpError(ERR_ARGUMENT_VALUE_INVALID, "not a version and a digest")
        self._reset()
        if key is not None:
            expected = update_auth(key, version, digest)
            if not auth.equal(expected.encode(), mac.strip().lower().encode()):
                raise fault(ERR_BAD_AUTH)
        if not force and new <= parse_version(self.version):
            raise fault(ERR_NOT_NEWER)
        try:
            slot = self._slot_path()
            _remove_tree(slot)  # what an earlier, unfinished update left
            _makedirs(slot)
        except OSError:
            raise fault(ERR_FLASH)
        self.target = version
        self.digest = digest
        self.path = MANIFEST
        self.hash = hashlib.sha256()
        log.info("update to", version, "begins in slot", self.staging)

    def write(self, path, offset, data_b64):
        try:
            self._write(path, offset, data_b64)
        except UpnpError:
            self._reset()  # whatever went wrong, the update starts over with BeginUpdate
            raise

    def _write(self, path, offset, data_b64):
        if self.target is None:
            raise fault(ERR_SEQUENCE)
        try:
            # bytes: micropython-lib's binascii.py (the WebAssembly port) takes no str
            data = binascii.a2b_base64(data_b64.encode())
        except Exception:
            raise UpnpError(ERR_ARGUMENT_VALUE_INVALID, "not base64")
        if len(data) > CHUNK_MAX:
            raise fault(ERR_BAD_FILE)
        if path != self.path:
            if self.files is None and self.length == 0:
                raise fault(ERR_SEQUENCE)  # the manifest comes first
            self._finish_current()
            if offset != 0 or self.files is None:
                raise fault(ERR_SEQUENCE)
            if self.done >= len(self.files) or self.files[self.done][0] != path:
                # Files arrive in manifest order, each once.
                raise fault(ERR_BAD_FILE if not self._listed(path) else ERR_SEQUENCE)
            self.path = path
            self.length = 0
            self.hash = hashlib.sha256()
            try:
                name = self._slot_path(path)
                _makedirs(name.rpartition("/")[0])
                open(name, "wb").close()
            except OSError:
                raise fault(ERR_FLASH)
        if offset != self.length:
            raise fault(ERR_SEQUENCE)
        files = self.files
        if path == MANIFEST:
            limit = MANIFEST_MAX
        elif files is None:
            raise fault(ERR_SEQUENCE)
        else:
            limit = files[self.done][1]
        if self.length + len(data) > limit:
            raise fault(ERR_BAD_FILE)
        try:
            with open(self._slot_path(path), "ab") as f:
                f.write(data)
        except OSError:
            raise fault(ERR_FLASH)
        self.hash.update(data)
        self.length += len(data)

    def _listed(self, path):
        for entry in self.files or ():
            if entry[0] == path:
                return True
        return False

    def _finish_current(self):
        """The file being written is complete: check it (the manifest: its digest, then
        its contents; a file: its size and SHA-256)."""
        digest = binascii.hexlify(self.hash.digest()).decode()
        self.hash = None
        if self.path == MANIFEST:
            if digest != self.digest:
                raise fault(ERR_BAD_MANIFEST)
            try:
                with open(self._slot_path(MANIFEST)) as f:
                    manifest = json.load(f)
            except (OSError, ValueError):
                raise fault(ERR_BAD_MANIFEST)
            self.files = check_manifest(manifest, self.target)
        else:
            files = self.files
            if files is None:
                raise fault(ERR_SEQUENCE)
            _, size, sha = files[self.done]
            if self.length != size or digest != sha:
                raise fault(ERR_MISMATCH)
            self.done += 1
        self.path = None

    def commit(self):
        try:
            if self.target is None:
                raise fault(ERR_SEQUENCE)
            if self.path is not None:
                self._finish_current()
            if self.files is None or self.done != len(self.files):
                raise fault(ERR_MISMATCH)
        except UpnpError:
            self._reset()
            raise
        boot = {
            "slot": self.staging,
            "previous": self.running,
            "trial": True,
            "tries": 0,
            "version": self.target,
            "last_result": "trial " + self.target,  # GetInfo's UpdateResult until confirmed
        }
        try:
            write_boot(self.root, boot)
        except OSError:
            raise fault(ERR_FLASH)
        log.info("update to", self.target, "committed: restarting")
        self._reset()
