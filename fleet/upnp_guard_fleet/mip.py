"""mip packages of the agent.

Two forms (docs/firmware.md "Install with mip"):
- firmware/package.json (in the repository): the sources, with URLs relative to it, for
  `mpremote mip install` from a checkout or a URL (mpremote resolves relative URLs);
- `upnp-guard-build --mip-base URL` writes `upnpguard-<version>.package.json` beside a
  bundle: its compiled files plus manifest.json, with absolute URLs under URL (where you
  publish the bundle directory), which every mip installs, the on-device one too
  (MicroPython 1.26's `mip.install` does not resolve relative URLs). The .mpy files cost
  no compiler heap on the board, and the installed directory is a whole bundle that
  load_manifest can check.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from upnp_guard_fleet.bundle import MANIFEST, BundleError, load_manifest

# Printable URL characters only: nothing that could end a JSON string or a line.
_BASE_RE = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")


def write_mip_package(bundle_dir: Path, base_url: str) -> Path:
    """Write `<bundle_dir>.package.json` (beside the bundle, not in it) listing every
    file of the verified bundle under `base_url`; return its path."""
    if not _BASE_RE.fullmatch(base_url) or len(base_url) > 512:
        raise BundleError(f"--mip-base must be an http(s) URL, not {base_url[:80]!r}")
    base = base_url if base_url.endswith("/") else base_url + "/"
    manifest = load_manifest(bundle_dir)
    paths = [entry["path"] for entry in manifest["files"]] + [MANIFEST]
    package = {
        "urls": [[path, base + path] for path in paths],
        "deps": [],
        "version": manifest["version"],
    }
    target = bundle_dir.parent / f"{bundle_dir.name}.package.json"
    target.write_text(json.dumps(package, indent=1) + "\n")
    return target
