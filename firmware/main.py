# UPnP Guard agent entry point. On the board MicroPython runs this file at boot; on the
# unix port: micropython firmware/main.py --config board.json --state DIR --ip A.B.C.D/N
# A build with the agent frozen in (firmware/manifest.py) runs `-m upnpguard.agent` instead.
import sys

try:
    _here = __file__.rpartition("/")[0]
    if _here and _here not in sys.path:
        sys.path.insert(0, _here)
except NameError:
    pass

import gc

try:
    from micropython import opt_level
except ImportError:  # (one exception type: ruff's py314 style of a tuple is not MicroPython)
    opt_level = None
if opt_level is not None:
    # Level 3 drops line numbers and asserts from the bytecode compiled from here on
    # (~2 KB of heap on the unix port; nothing when the modules are frozen).
    opt_level(3)

# Compiling a module from source needs a few KB of transient heap; importing the agent one
# module at a time with a collection in between keeps that peak low on a small heap (frozen
# modules are not compiled at all and this costs nothing).
for _name in (
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
    "upnpguard.core",
    "asyncio",
    "upnpguard.sockio",
    "upnpguard.httpserver",
    "upnpguard.shell",
    "hal",
    "upnpguard.agent",
):
    __import__(_name)
    gc.collect()

from upnpguard.agent import main  # noqa: E402 - after the staged imports above

main()
