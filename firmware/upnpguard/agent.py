# The agent's lifecycle: read the board config, build the devices, run the shell.
# Started by firmware/main.py (from source, or at boot on a board) or, when the modules are
# frozen into the MicroPython build, by `micropython -m upnpguard.agent ...`.
import asyncio
import gc
import json
import random
import sys

import hal as hal_select
from upnpguard import FIRMWARE_VERSION, app, log, services
from upnpguard.compat import hexlify, ticks_diff, ticks_ms, urandom
from upnpguard.shell import Shell

DEFAULT_HTTP_PORT = 49152


def _next_boot_id(hal):
    """BOOTID.UPNP.ORG: a counter persisted across reboots (UDA 1.1 1.2.2)."""
    raw = hal.load("boot_id")
    try:
        boot_id = int(raw) + 1 if raw else 1
    except ValueError:
        boot_id = 1
    boot_id &= 0x7FFFFFFF  # UDA: 0..2^31-1
    hal.store("boot_id", str(boot_id).encode())
    return boot_id


def _random_ms(limit):
    return random.getrandbits(16) % limit if limit > 0 else 0


async def start(platform, hal, config):
    ip, prefix = await hal.connect(config)
    board_id = hal.board_id()
    boot_id = _next_boot_id(hal)
    started = ticks_ms()
    mode = config.get("security_mode", "open")
    if mode != "open":
        # The paired mode arrives with the authentication issue; refusing to start is
        # safer than silently running open when the owner asked for paired.
        raise ValueError("security_mode {!r} is not supported by this firmware".format(mode))
    root, bindings = services.build_devices(
        config,
        board_id,
        hal,
        lambda index: hexlify(urandom(5)),
        boot_id,
        lambda: ticks_diff(ticks_ms(), started) // 1000,
        mode,
    )
    port = int(config.get("http_port", DEFAULT_HTTP_PORT))
    serial = hexlify(board_id[:6])
    server = "{}/1.0 UPnP/1.1 UPnPGuard/{}".format(platform.PLATFORM, FIRMWARE_VERSION)
    agent = app.Agent(
        root,
        serial,
        ip,
        port,
        prefix,
        boot_id,
        ticks_ms,
        urandom,
        _random_ms,
        server,
        allow_other_callback_hosts=bool(config.get("allow_other_callback_hosts", False)),
    )
    log.info("UPnP Guard", FIRMWARE_VERSION, "on", ip, "port", port, "services", len(root.children))
    shell = Shell(agent, hal, port)
    await shell.run()


def main(argv=None):
    # Collect early and often: a small heap fragments less when garbage never piles up.
    # gc.threshold counts bytes allocated since the last collection (not a heap level).
    gc.collect()
    gc.threshold(gc.mem_free() // 16)
    platform = hal_select.load()
    args = platform.parse_args(sys.argv[1:] if argv is None else argv)
    log.set_level(args.get("log", "info"))
    config_path = args.get("config", "config.json")
    with open(config_path) as f:
        config = json.load(f)
    if "http_port" in args:
        config["http_port"] = int(args["http_port"])
    hal = platform.Hal(args)
    try:
        asyncio.run(start(platform, hal, config))
    except KeyboardInterrupt:
        pass
    except Exception as err:
        log.error("fatal", type(err).__name__, err)
        sys.print_exception(err)
        platform.reset()


if __name__ == "__main__":
    main()
