# Freezes the agent into a MicroPython firmware image, so its bytecode lives in flash
# (or, on the unix port, in the binary) instead of on the heap. For a board, include this
# from the board's manifest after the port's own one, e.g. for an ESP32:
#   include("$(PORT_DIR)/boards/manifest.py")
#   include("/path/to/firmware/manifest.py")
# and build with `make BOARD=ESP32_GENERIC FROZEN_MANIFEST=<that file>`; then copy only
# main.py and config.json to the board. scripts/build-firmware does the same for the unix
# port (manifest_unix.py).
package("upnpguard", opt=3)
package("hal", opt=3)
