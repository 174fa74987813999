# Over-the-air updates (upnpguard/ota.py and its actions on AgentInfo): a bundle in, its
# manifest's digest, the key's authenticator, every file's size and SHA-256 checked before
# /ug/boot.json changes; every refusal a documented UPnP fault that leaves everything but
# the staging slot as it was. Runs on CPython and under micropython, in a scratch
# directory standing in for the board's flash.
import hashlib
import json
import os

try:
    import binascii
except ImportError:  # pragma: no cover
    import ubinascii as binascii

from upnpguard import auth, ota, ota_receive, servicetypes
from upnpguard.compat import hexlify, urandom
from upnpguard.servicetypes import UpnpError

from corehelpers import CONFIG, body_text, call, fault_code, raises
from corehelpers import make_agent as _make_agent
from test_fw_paired import PAIRED, SECRET, Signer, signed_call

KEY = auth.Key(SECRET)
FILES = (
    ("hal/__init__.mpy", b"hal init" * 10),
    ("upnpguard/__init__.mpy", b'FIRMWARE_VERSION = "0.2.0"\n'),
    ("upnpguard/core.mpy", bytes(range(256)) * 20),  # 5 KB: three chunks
)


def _sha(data):
    return hexlify(hashlib.sha256(data).digest())


def _b64(data):
    return binascii.b2a_base64(data).decode().strip()


def signed_manifest(version="0.2.0"):
    """The manifest of FILES for `version`, its digest and KEY's authenticator over both."""
    manifest = manifest_bytes(version)
    digest = _sha(manifest)
    return manifest, digest, ota_receive.update_auth(KEY, version, digest)


def manifest_bytes(version="0.2.0", files=FILES, entries=None):
    """The canonical manifest (sorted keys, no spaces), built by hand: MicroPython's
    json.dumps has no sort_keys."""
    if entries is None:
        entries = [(path, len(data), _sha(data)) for path, data in files]
    parts = []
    for path, size, sha in entries:
        parts.append('{"path":"%s","sha256":"%s","size":%d}' % (path, sha, size))
    text = '{"files":[%s],"format":1,"name":"upnpguard","version":"%s"}' % (
        ",".join(parts),
        version,
    )
    return text.encode()


class Board:
    """A scratch directory standing in for the flash (removed by close())."""

    def __init__(self, boot=None):
        self.root = "/tmp/ug-ota-test-" + hexlify(urandom(6))
        os.mkdir(self.root)
        if boot is not None:
            ota.write_boot(self.root, boot)

    def close(self):
        ota_receive._remove_tree(self.root)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def listing(self, path=""):
        """Every file under the root with its bytes (the "nothing changed" check)."""
        out = {}
        base = self.root + path
        for name in sorted(os.listdir(base)):
            full = base + "/" + name
            if ota._is_dir(full):
                out.update(self.listing(path + "/" + name))
            else:
                with open(full, "rb") as f:
                    out[path + "/" + name] = f.read()
        return out

    def boot(self):
        return ota.read_boot(self.root)


def send(updater, version="0.2.0", files=FILES, manifest=None, key=KEY, force=False, mac=None):
    """The whole update as Home Assistant sends it, through the Updater's calls."""
    manifest = manifest_bytes(version, files) if manifest is None else manifest
    digest = _sha(manifest)
    if mac is None:
        mac = ota_receive.update_auth(key, version, digest) if key is not None else ""
    updater.begin(version, digest, mac, force, KEY if key is not None else None)
    for path, data in (("manifest.json", manifest),) + tuple(files):
        offset = 0
        while True:
            chunk = data[offset : offset + ota_receive.CHUNK_MAX]
            updater.write(path, offset, _b64(chunk))
            offset += len(chunk)
            if offset >= len(data):
                break
    updater.commit()


def test_an_update_lands_in_the_other_slot_and_boot_json_names_it():
    with Board({"slot": "a"}) as board:
        updater = ota.Updater(board.root, "0.1.0")
        assert (updater.running, updater.staging, updater.trial) == ("a", "b", False)
        send(updater)
        assert updater.restart
        boot = board.boot()
        assert boot["slot"] == "b"
        assert boot["previous"] == "a"
        assert boot["trial"] is True
        assert boot["tries"] == 0
        assert boot["version"] == "0.2.0"
        files = board.listing()
        for path, data in FILES:
            assert files["/ug/b/" + path] == data
        assert files["/ug/b/manifest.json"] == manifest_bytes()


def test_without_boot_json_the_update_goes_to_slot_a_with_no_previous():
    with Board() as board:
        updater = ota.Updater(board.root, "0.1.0")
        send(updater)
        boot = board.boot()
        assert boot["slot"] == "a"
        assert boot["previous"] is None


def refused(code, board, fn, *args):
    """`fn` raises UPnP fault `code`, boot.json is unchanged and no slot but the staging
    one changed."""
    before = board.listing()
    err = raises(UpnpError, fn, *args)
    assert err.code == code, err.code
    after = board.listing()
    for path in set(before) | set(after):
        if not path.startswith("/ug/b/"):
            assert before.get(path) == after.get(path), path
    return err


def running_board():
    board = Board({"slot": "a", "last_result": "ok 0.1.0"})
    ota._makedirs(board.root + "/ug/a/upnpguard")
    with open(board.root + "/ug/a/upnpguard/core.mpy", "wb") as f:
        f.write(b"the running code")
    return board


def test_wrong_key_is_710_before_anything_is_written():
    with running_board() as board:
        updater = ota.Updater(board.root, "0.1.0")
        other = auth.Key(bytes(32))
        digest = _sha(manifest_bytes())
        wrong = ota_receive.update_auth(other, "0.2.0", digest)
        refused(710, board, updater.begin, "0.2.0", digest, wrong, False, KEY)
        assert not ota._is_dir(board.root + "/ug/b")  # not even the staging slot
        # Signed for another version: the same refusal.
        other_version = ota_receive.update_auth(KEY, "0.3.0", digest)
        refused(710, board, updater.begin, "0.2.0", digest, other_version, False, KEY)
        # ... and nothing may be written after a refused begin.
        refused(712, board, updater.write, "manifest.json", 0, _b64(b"{}"))
        # The right key: accepted (the authenticator's hex case does not matter).
        right = ota_receive.update_auth(KEY, "0.2.0", digest)
        updater.begin("0.2.0", digest, right.upper(), False, KEY)


def test_a_tampered_manifest_is_714_and_a_tampered_file_715():
    with running_board() as board:
        updater = ota.Updater(board.root, "0.1.0")
        manifest, digest, mac = signed_manifest()
        # Manifest bytes that are not the signed digest (one byte changed).
        updater.begin("0.2.0", digest, mac, False, KEY)
        updater.write("manifest.json", 0, _b64(manifest.replace(b"0.2.0", b"0.2.1")))
        refused(714, board, updater.write, FILES[0][0], 0, _b64(FILES[0][1]))
        # A consistent manifest for other files, sent under the signed digest: 714.
        swapped = ((FILES[0][0], b"evil"),) + FILES[1:]
        updater.begin("0.2.0", digest, mac, False, KEY)
        updater.write("manifest.json", 0, _b64(manifest_bytes(files=swapped)))
        refused(714, board, updater.write, FILES[0][0], 0, _b64(b"evil"))
        # A file whose bytes differ from the manifest's SHA-256 (same size).
        bad = list(FILES)
        bad[1] = (bad[1][0], bad[1][1].replace(b"2", b"9"))
        err = refused(715, board, send, updater, "0.2.0", tuple(bad), manifest)
        assert not updater.restart
        # A file missing at commit.
        updater.begin("0.2.0", digest, mac, False, KEY)
        updater.write("manifest.json", 0, _b64(manifest))
        updater.write(FILES[0][0], 0, _b64(FILES[0][1]))
        refused(715, board, updater.commit)
        assert err.detail == "Update file mismatch"
        assert board.boot() == {"slot": "a", "last_result": "ok 0.1.0"}


def test_the_manifest_must_name_the_signed_version_and_sane_paths():
    with running_board() as board:
        updater = ota.Updater(board.root, "0.1.0")
        cases = (
            manifest_bytes("0.3.0"),  # not the version signed
            manifest_bytes(entries=[("../main.py", 3, _sha(b"abc"))]),
            manifest_bytes(entries=[("/main.py", 3, _sha(b"abc"))]),
            manifest_bytes(entries=[("a//b.mpy", 3, _sha(b"abc"))]),
            manifest_bytes(entries=[("manifest.json", 3, _sha(b"abc"))]),
            manifest_bytes(entries=[("big.mpy", ota_receive.FILE_MAX + 1, _sha(b"abc"))]),
            manifest_bytes(entries=[("a.mpy", 3, "X" * 64)]),
            b"not json",
        )
        for manifest in cases:
            digest = _sha(manifest)
            updater.begin(
                "0.2.0", digest, ota_receive.update_auth(KEY, "0.2.0", digest), False, KEY
            )
            updater.write("manifest.json", 0, _b64(manifest))
            refused(714, board, updater.commit)


def test_write_is_bounded_and_in_sequence():
    with running_board() as board:
        updater = ota.Updater(board.root, "0.1.0")
        manifest, digest, mac = signed_manifest()

        def begun():
            updater.begin("0.2.0", digest, mac, False, KEY)
            updater.write("manifest.json", 0, _b64(manifest))

        refused(712, board, updater.write, "manifest.json", 0, _b64(b"x"))  # no begin
        updater.begin("0.2.0", digest, mac, False, KEY)
        refused(712, board, updater.write, FILES[0][0], 0, _b64(b"x"))  # manifest first
        begun()
        refused(713, board, updater.write, "../../main.py", 0, _b64(b"x"))  # not listed
        begun()
        refused(712, board, updater.write, FILES[1][0], 0, _b64(FILES[1][1]))  # order
        begun()
        refused(712, board, updater.write, FILES[0][0], 5, _b64(b"x"))  # offset
        begun()
        updater.write(FILES[0][0], 0, _b64(FILES[0][1][:10]))
        refused(712, board, updater.write, FILES[0][0], 0, _b64(FILES[0][1][:10]))  # again
        begun()
        updater.write(FILES[0][0], 0, _b64(FILES[0][1]))
        updater.write(FILES[1][0], 0, _b64(FILES[1][1]))
        big = FILES[2][1][: ota_receive.CHUNK_MAX + 1]  # within the file, beyond a chunk
        refused(713, board, updater.write, FILES[2][0], 0, _b64(big))
        begun()
        too_long = FILES[0][1] + b"!"
        refused(713, board, updater.write, FILES[0][0], 0, _b64(too_long))  # beyond size
        begun()
        refused(600, board, updater.write, FILES[0][0], 0, "*not base64*")
        updater.begin("0.2.0", digest, mac, False, KEY)
        huge = b" " * (ota_receive.MANIFEST_MAX + 1)
        for offset in range(0, len(huge), ota_receive.CHUNK_MAX):
            chunk = huge[offset : offset + ota_receive.CHUNK_MAX]
            if offset + len(chunk) > ota_receive.MANIFEST_MAX:
                refused(713, board, updater.write, "manifest.json", offset, _b64(chunk))
                break
            updater.write("manifest.json", offset, _b64(chunk))
        # After all that, a clean run still works.
        send(updater)
        assert board.boot()["slot"] == "b"


def test_downgrade_and_same_version_are_711_unless_forced():
    with running_board() as board:
        updater = ota.Updater(board.root, "0.10.0")  # integer tuples: 0.10.0 > 0.9.0
        for version in ("0.9.0", "0.10.0"):
            _manifest, digest, mac = signed_manifest(version)
            refused(711, board, updater.begin, version, digest, mac, False, KEY)
        send(updater, "0.9.0", force=True)
        assert board.boot()["version"] == "0.9.0"
        assert ota_receive.parse_version("0.10.0") > ota_receive.parse_version("0.9.0")
        for text in ("1.2", "1.2.3.4", "a.b.c", "1..2", "-1.0.0", "1234567.0.0", None):
            assert ota_receive.parse_version(text) is None, text


def test_open_mode_refuses_updates_unless_the_board_allows_them():
    with running_board() as board:
        updater = ota.Updater(board.root, "0.1.0")
        digest = _sha(manifest_bytes())
        refused(606, board, updater.begin, "0.2.0", digest, "", False, None)
        allowed = ota.Updater(board.root, "0.1.0", allow_open=True)
        send(allowed, key=None)
        assert board.boot()["slot"] == "b"


def test_a_trial_boot_is_confirmed_once():
    with Board(
        {"slot": "b", "previous": "a", "trial": True, "tries": 1, "version": "0.2.0"}
    ) as board:
        updater = ota.Updater(board.root, "0.2.0")
        assert updater.trial
        assert updater.running == "b"
        assert updater.confirm()
        assert board.boot()["trial"] is False
        assert board.boot()["last_result"] == "ok 0.2.0"
        assert board.boot()["previous"] == "a"
        assert not updater.confirm()  # nothing left to confirm
        assert not ota.Updater(board.root, "0.2.0").trial


# -- through the core's pipeline -------------------------------------------------------------
def _args(version, digest, mac, force="0"):
    return [("NewVersion", version), ("NewDigest", digest), ("NewAuth", mac), ("NewForce", force)]


def test_paired_update_actions_need_ug_auth_and_commit_reboots_after_the_answer():
    with running_board() as board:
        reboots = []
        updater = ota.Updater(board.root, "0.1.0")
        agent = _make_agent(PAIRED, key=SECRET, updater=updater, reboot=lambda: reboots.append(1))
        info = agent.info
        manifest, digest, mac = signed_manifest()
        # Unsigned: 401 before the body is parsed, nothing happens.
        assert call(agent, info, "BeginUpdate", _args("0.2.0", digest, mac)).status == 401
        assert updater.receiving is None
        signer = Signer()
        ok = signed_call(agent, info, "BeginUpdate", _args("0.2.0", digest, mac), signer)
        assert ok.status == 200, body_text(ok)
        for path, data in (("manifest.json", manifest),) + FILES:
            for offset in range(0, len(data), ota_receive.CHUNK_MAX):
                chunk = _b64(data[offset : offset + ota_receive.CHUNK_MAX])
                args = [("NewPath", path), ("NewOffset", str(offset)), ("NewData", chunk)]
                response = signed_call(agent, info, "WriteUpdate", args, signer)
                assert response.status == 200, body_text(response)
        response = signed_call(agent, info, "CommitUpdate", (), signer)
        assert response.status == 200
        assert reboots == []  # not before the answer is out
        response.after(True)
        assert reboots == [1]
        assert board.boot()["slot"] == "b"


def test_faults_reach_the_control_point_with_their_code():
    with running_board() as board:
        updater = ota.Updater(board.root, "0.1.0")
        agent = _make_agent(PAIRED, key=SECRET, updater=updater)
        digest = _sha(manifest_bytes())
        response = signed_call(
            agent, agent.info, "BeginUpdate", _args("0.2.0", digest, "0" * 64), Signer()
        )
        assert response.status == 500
        assert fault_code(response) == 710
        assert "Update not authentic" in body_text(response)
        # A NewData longer than a chunk's base64 is refused by the SOAP layer (605).
        long = [("NewPath", "a"), ("NewOffset", "0"), ("NewData", "A" * (ota_receive.DATA_MAX + 4))]
        response = signed_call(agent, agent.info, "WriteUpdate", long, Signer(counter=5000))
        assert fault_code(response) == 605


def test_open_mode_agent_refuses_and_getinfo_reports_the_result():
    with running_board() as board:
        agent = _make_agent(CONFIG, updater=ota.Updater(board.root, "0.1.0"))
        digest = _sha(manifest_bytes())
        response = call(agent, agent.info, "BeginUpdate", _args("0.2.0", digest, ""))
        assert fault_code(response) == 606
        text = body_text(call(agent, agent.info, "GetInfo"))
        assert "<UpdateResult>ok 0.1.0</UpdateResult>" in text
        # Without an updater (a core built without one), the actions are not offered.
        bare = _make_agent(CONFIG)
        response = call(bare, bare.info, "CommitUpdate")
        assert fault_code(response) == 602


def test_a_trial_version_is_confirmed_by_the_first_authenticated_request():
    with Board(
        {"slot": "b", "previous": "a", "trial": True, "tries": 1, "version": "0.2.0"}
    ) as board:
        updater = ota.Updater(board.root, "0.2.0")
        agent = _make_agent(PAIRED, key=SECRET, updater=updater)
        # An open read does not confirm it (anyone may send one) ...
        call(agent, agent.info, "GetInfo")
        assert board.boot()["trial"] is True
        # ... a signed one does, and GetInfo reports it.
        response = signed_call(agent, agent.info, "GetInfo", (), Signer())
        assert "<UpdateResult>ok 0.2.0</UpdateResult>" in body_text(response)
        assert board.boot()["trial"] is False


def test_an_update_during_a_trial_confirms_it_before_emptying_the_previous_slot():
    # Open mode with updates allowed: the answered BeginUpdate itself is what reaches the
    # agent first; slot a (where a rollback would go) must not be emptied under a trial.
    with Board(
        {"slot": "b", "previous": "a", "trial": True, "tries": 1, "version": "0.2.0"}
    ) as board:
        digest = _sha(manifest_bytes("0.3.0"))
        updater = ota.Updater(board.root, "0.2.0", allow_open=True)
        assert updater.staging == "a"
        updater.begin("0.3.0", digest, "", False, None)
        assert board.boot()["trial"] is False
        assert board.boot()["last_result"] == "ok 0.2.0"
    # Through the core: GetInfo reports the confirmation BeginUpdate made.
    with Board(
        {"slot": "b", "previous": "a", "trial": True, "tries": 1, "version": "0.2.0"}
    ) as board:
        config = dict(CONFIG)
        config["allow_open_updates"] = True
        agent = _make_agent(config, updater=ota.Updater(board.root, "0.2.0", allow_open=True))
        response = call(agent, agent.info, "BeginUpdate", _args("0.3.0", digest, ""))
        assert response.status == 200, body_text(response)
        text = body_text(call(agent, agent.info, "GetInfo"))
        assert "<UpdateResult>ok 0.2.0</UpdateResult>" in text


def test_limits_agree_with_the_scpd():
    var = servicetypes.AGENT_INFO.variable("A_ARG_TYPE_Data")
    assert var.max_length == ota_receive.DATA_MAX
    assert len(_b64(bytes(ota_receive.CHUNK_MAX))) <= ota_receive.DATA_MAX
    assert servicetypes.AGENT_INFO.variable("A_ARG_TYPE_Path").max_length == ota_receive.PATH_MAX
    assert json.loads(manifest_bytes())["version"] == "0.2.0"
