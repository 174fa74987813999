"""The agent killed (SIGKILL, as a power cut) while it writes its state: every boot writes
the boot counter, a first boot the pairing key (storage.store: a temporary file, then a
rename). Whenever the kill lands, the state files hold the old value or the new one, never
a torn one, and the next boot starts with a valid key and a boot id above every earlier one
(a boot id that went back would let a request captured in an earlier boot be replayed)."""

from __future__ import annotations

import base64
import time

import pytest

from tests.lan import Lan
from tests.lan.agent import PAIRED_CONFIG, boot_id, start_agent

pytestmark = pytest.mark.lan

# Kill points spread over the boot (interpreter start, imports, state writes, sockets).
KILL_DELAYS_S = (0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5)


def test_killed_while_writing_state_boots_with_valid_state(lan: Lan) -> None:
    state = lan.workdir / "board-state"
    state.mkdir()
    first = start_agent(lan, "board", PAIRED_CONFIG, state_dir=state)
    key = first.pairing_key
    host = first.host
    first.kill()
    # A board that booted many times: a torn write of a long counter would shrink it.
    (state / "boot_id").write_text("4000000")
    seen = [4000000]
    # Leftovers of writes cut short before their rename: never read as state.
    (state / "boot_id.tmp").write_bytes(b"\xff\x00garbage")
    (state / "key.tmp").write_bytes(b"half a ke")

    for delay in KILL_DELAYS_S:
        agent = start_agent(lan, "board", PAIRED_CONFIG, host=host, state_dir=state, wait=False)
        time.sleep(delay)
        agent.kill()
        text = (state / "boot_id").read_text()
        assert text.isdigit(), (delay, text)  # old or new, never torn
        seen.append(int(text))
        assert base64.b64decode((state / "key").read_text(), validate=True) == key

    # Never backwards; the kills landed both before and after the counter's write.
    assert seen == sorted(seen)
    assert seen[-1] > seen[0]
    assert len(set(seen)) < len(seen)

    last = start_agent(lan, "board", PAIRED_CONFIG, host=host, state_dir=state)
    assert boot_id(last) == seen[-1] + 1
    assert base64.b64decode((state / "key").read_text(), validate=True) == key
    assert "pairing key for" not in last.process.output()
    last.stop()
