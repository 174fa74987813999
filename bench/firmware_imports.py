"""Heap each agent module takes once imported, on the 32-bit unix build, three ways: frozen
into the image, from a ROMFS image (bytecode in place), from the .mpy bundle on a file
system (docs/firmware.md "Memory"). Modules in the loader's order (firmware/main.py), a
collection before and after each import; bytes of `gc.mem_alloc()`.

    PYTHONPATH=/repo:/repo/fleet python bench/firmware_imports.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from upnp_guard_fleet.bundle import build_bundle
from upnp_guard_fleet.romfs import build_romfs

from tests.lan.agent import binary_for

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"


def loader_order() -> list[str]:
    """The modules the loader imports one by one, as it lists them."""
    source = (FIRMWARE / "main.py").read_text()
    listing = source[source.index("for _name in (") : source.index("):\n        __import__")]
    return re.findall(r'"([a-z_.]+)"', listing)


def measure(prelude: str, env: dict[str, str] | None = None) -> dict[str, int]:
    modules = loader_order()
    script = (
        "import gc, sys\n"
        + prelude
        + f"for n in {modules!r}:\n"
        + "    gc.collect(); a = gc.mem_alloc(); __import__(n); gc.collect()\n"
        + "    print(n, gc.mem_alloc() - a)\n"
    )
    out = subprocess.run(
        [binary_for("frozen-32"), "-X", "heapsize=256wK", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env=env,
        timeout=60,
    ).stdout
    return {name: int(size) for name, size in (line.split() for line in out.splitlines())}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ug-bench-imports-") as tmp:
        bundle = build_bundle(FIRMWARE, Path(tmp))
        image = build_romfs(bundle)
        mount = (
            "import ugrom, vfs\n"
            f"vfs.mount(vfs.VfsRom(ugrom.segment({str(image)!r})), '/rom')\n"
            "sys.path.insert(0, '/rom')\n"
        )
        runs = {
            "frozen": measure(""),
            "romfs": measure(mount),
            "mpy": measure("", env={"MICROPYPATH": f"{bundle}:.frozen"}),
        }
    print(f"{'module':28} {'frozen':>8} {'romfs':>8} {'mpy':>8}")
    for name in loader_order():
        print(f"{name:28} " + " ".join(f"{runs[kind][name]:8d}" for kind in runs))
    print(f"{'all':28} " + " ".join(f"{sum(runs[kind].values()):8d}" for kind in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
