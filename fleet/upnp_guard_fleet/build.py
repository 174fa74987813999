"""`upnp-guard-build`: compile the agent into a bundle (bundle.py) and print its digest.

upnp-guard-build [--src firmware] [--out dist] [--version X.Y.Z] [--romfs] [--mip-base URL]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from upnp_guard_fleet.bundle import BundleError, build_bundle, bundle_digest, load_manifest
from upnp_guard_fleet.mip import write_mip_package
from upnp_guard_fleet.romfs import build_romfs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="upnp-guard-build",
        description="Compile the UPnP Guard agent to .mpy into dist/upnpguard-<version>/.",
    )
    parser.add_argument(
        "--src", type=Path, default=Path("firmware"), help="firmware directory (or repo root)"
    )
    parser.add_argument("--out", type=Path, default=Path("dist"), help="where bundles go")
    parser.add_argument("--version", help="override FIRMWARE_VERSION (x.y.z)")
    parser.add_argument("--mip-base", help="URL the bundle directory is published at")
    parser.add_argument(
        "--romfs",
        action="store_true",
        help="also write the bundle as a ROMFS image (<bundle>.romfs, mpremote romfs deploy)",
    )
    args = parser.parse_args(argv)
    try:
        bundle = build_bundle(args.src, args.out, version=args.version)
        manifest = load_manifest(bundle)
        package = write_mip_package(bundle, args.mip_base) if args.mip_base else None
        romfs = build_romfs(bundle) if args.romfs else None
    except (BundleError, OSError) as err:
        print(f"upnp-guard-build: {err}", file=sys.stderr)
        return 1
    print(f"bundle {bundle}")
    print(f"version {manifest['version']}")
    print(f"files {len(manifest['files'])}")
    print(f"digest {bundle_digest(manifest)}")
    if package is not None:
        print(f"mip {package}")
    if romfs is not None:
        print(f"romfs {romfs} ({romfs.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
