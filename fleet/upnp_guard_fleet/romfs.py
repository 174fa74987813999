"""A bundle as a ROMFS image: the agent's .mpy files in MicroPython's read-only,
memory-mapped file system, whose bytecode runs in place from flash (docs/firmware.md
"Memory": the .mpy bundle on a 64 KB heap).

The image format and its writer are MicroPython's (mpremote's `romfs` module); this only
checks the bundle first and names the image after it. A board needs a MicroPython image
with ROMFS enabled and a partition for it; `mpremote romfs deploy IMAGE` writes it.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from mpremote.romfs import make_romfs  # type: ignore[import-untyped]  # no py.typed

from upnp_guard_fleet.bundle import BundleError, load_manifest

# MicroPython's 4 MiB ESP32 partition table with a ROMFS (partitions-4MiB-romfs.csv)
# gives it 128 KB.
ROMFS_PARTITION_BYTES = 128 * 1024


def build_romfs(bundle: Path, out: Path | None = None) -> Path:
    """Write `bundle` (a upnp-guard-build bundle, verified first) as a ROMFS image and
    return its path (default: <bundle>.romfs beside the bundle directory). Raises
    BundleError for a bundle that does not verify or an image larger than the partition."""
    load_manifest(bundle)  # every file as the manifest lists it, and nothing else
    with contextlib.redirect_stdout(io.StringIO()):  # mpremote's writer prints the tree
        image = bytes(make_romfs(str(bundle), mpy_cross=False))
    if len(image) > ROMFS_PARTITION_BYTES:
        raise BundleError(
            f"the ROMFS image is {len(image)} bytes, more than a {ROMFS_PARTITION_BYTES}-byte "
            "partition"
        )
    target = out or bundle.with_name(f"{bundle.name}.romfs")
    target.write_bytes(image)
    return target
