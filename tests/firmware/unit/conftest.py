"""The firmware core's unit tests import `upnpguard` from firmware/ (as MicroPython does)."""

import sys
from pathlib import Path

_FIRMWARE = str(Path(__file__).resolve().parents[3] / "firmware")
if _FIRMWARE not in sys.path:
    sys.path.insert(0, _FIRMWARE)
