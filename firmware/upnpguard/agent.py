# The agent's boot code: read the board config, connect, count the boot, build the core
# (core.py) and run the shell (shell.py) around it. Started by firmware/main.py (from
# source, or at boot on a board) or, when the modules are frozen into the MicroPython
# build, by `micropython -m upnpguard.agent ...`.
import asyncio
import gc
import json
import random
import sys

import hal as hal_select
from upnpguard import FIRMWARE_VERSION, auth, limits, log, ota
from upnpguard.compat import ticks_ms, urandom
from upnpguard.core import AgentCore, security_mode
from upnpguard.devices import ConfigError
from upnpguard.shell import Shell


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


def _pairing_key(hal, config):
    """Paired mode's key: the provisioned one (the state file `key`, base64), else a new
    one from os.urandom, stored, and shown once on the console for the config flow."""
    if security_mode(config) != "paired":
        return None
    raw = hal.load("key")
    if raw:
        try:
            return auth.parse_key(raw.decode())
        except (ValueError, UnicodeError):
            # Never replace a key silently: Home Assistant would be locked out unawares.
            raise ConfigError("the stored pairing key is not base64 of 32 bytes")
    secret = urandom(auth.KEY_BYTES)
    text = auth.format_key(secret)
    hal.store("key", text.encode())
    name = config.get("friendly_name") or "UPnP Guard Agent"
    # The one line that ever shows the key, whatever the log level (never logged again).
    print("[I] pairing key for " + name + ": " + text)
    return secret


def _random_ms(limit):
    # MX delays need no secrecy: the PRNG spares the entropy source under a flood.
    return random.getrandbits(16) % limit if limit > 0 else 0


def _reboot_soon(platform):
    async def later():
        await asyncio.sleep_ms(200)  # the answer's last bytes leave before the reset
        log.info("restarting into the update")
        platform.reset()

    asyncio.create_task(later())


async def _confirm_deadline(updater, platform):
    """A new version not confirmed (ota.Updater.confirm) in time resets the board; the
    loader then rolls back to the previous slot."""
    await asyncio.sleep(limits.UPDATE_CONFIRM_S)
    if updater.trial:
        log.error("update not confirmed in", limits.UPDATE_CONFIRM_S, "s: rolling back")
        platform.reset()


async def start(platform, hal, config, root=""):
    ip, prefix = await hal.connect(config)
    key = _pairing_key(hal, config)
    updater = ota.Updater(root, FIRMWARE_VERSION, bool(config.get("allow_open_updates")))
    core = AgentCore(
        config,
        hal,
        board_id=hal.board_id(),
        ip=ip,
        prefix_len=prefix,
        boot_id=_next_boot_id(hal),
        platform=platform.PLATFORM,
        clock=ticks_ms,
        rand_bytes=urandom,
        random_ms=_random_ms,
        key=key,
        store_key=lambda text: hal.store("key", text.encode()),
        updater=updater,
        reboot=lambda: _reboot_soon(platform),
    )
    if updater.trial:
        log.info("version", FIRMWARE_VERSION, "on trial: waiting for Home Assistant")
        asyncio.create_task(_confirm_deadline(updater, platform))
    services = len(core.root.children)
    log.info("UPnP Guard", FIRMWARE_VERSION, "on", ip, "port", core.port, "services", services)
    log.info("security mode", security_mode(config))
    await Shell(core, hal).run()


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
        asyncio.run(start(platform, hal, config, args.get("root", "")))
    except KeyboardInterrupt:
        pass
    except Exception as err:
        log.error("fatal", type(err).__name__, err)
        sys.print_exception(err)
        platform.reset()


if __name__ == "__main__":
    main()
