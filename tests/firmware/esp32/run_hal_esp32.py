# hal/esp32.py on the unix port, against fakes of the board's modules (fakes.py):
#   micropython tests/firmware/esp32/run_hal_esp32.py <repo> <scratch dir>
# Prints one line per test and "passed N failed M".
import asyncio
import sys

root, scratch = sys.argv[1], sys.argv[2]
sys.path.insert(0, root + "/firmware")  # the sources (what the frozen build holds)
sys.path.insert(0, root + "/tests/firmware/esp32")

import fakes  # noqa: E402

sys.modules["machine"] = fakes.Machine
sys.modules["network"] = fakes.Network
sys.modules["dht"] = fakes.Dht

from hal import esp32  # noqa: E402
from upnpguard.compat import ticks_diff, ticks_ms  # noqa: E402


def check(condition, message):
    if not condition:
        raise AssertionError(message)


async def run_for(coro, ms):
    """Run a HAL loop (they never return) for `ms`, then cancel it."""
    task = asyncio.create_task(coro)
    await asyncio.sleep_ms(ms)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def connected_hal():
    fakes.WLAN.connect_after = 1
    hal = esp32.Hal({})
    asyncio.run(hal.connect({"wifi": {"ssid": "home", "password": "pw"}}))
    return hal


def test_connect_retries_with_doubling_backoff_then_arms_the_watchdog():
    esp32.WIFI_BACKOFF_MIN_MS, esp32.WIFI_BACKOFF_MAX_MS = 100, 200
    fakes.WLAN.connect_after = 4
    fakes.WLAN.ip, fakes.WLAN.mask = "192.168.1.50", "255.255.252.0"
    hal = esp32.Hal({})
    started = ticks_ms()
    ip, prefix = asyncio.run(hal.connect({"wifi": {"ssid": "home", "password": "pw"}}))
    waited = ticks_diff(ticks_ms(), started)
    wlan = fakes.WLAN.instance
    check(wlan.active_state, "WLAN not activated")
    check(wlan.connect_calls == [("home", "pw")] * 4, wlan.connect_calls)
    check((ip, prefix) == ("192.168.1.50", 22), (ip, prefix))
    # 100 ms, then 200, then capped at 200: 500 ms of waiting before the fourth try.
    check(450 <= waited < 3000, waited)
    check(hal.wdt is fakes.WDT.made[-1] and hal.wdt.timeout == esp32.WATCHDOG_MS, "watchdog")
    fed = hal.wdt.fed
    hal.feed_watchdog()
    check(hal.wdt.fed == fed + 1, "watchdog not fed")
    fakes.WLAN.mask = "255.255.255.0"


def test_watchdog_is_not_fed_before_it_exists():
    hal = esp32.Hal({})
    hal.feed_watchdog()  # no WDT yet (before the first connect): must not raise
    check(hal.wdt is None, "watchdog armed before connecting")


def test_new_address_or_lost_link_restarts_the_board():
    esp32.NETWORK_CHECK_MS = 10
    hal = connected_hal()
    resets = fakes.Machine.resets
    asyncio.run(run_for(hal._watch_network(), 60))
    check(fakes.Machine.resets == resets, "reset with an unchanged link")
    fakes.WLAN.ip = "192.168.1.77"
    asyncio.run(run_for(hal._watch_network(), 60))
    check(fakes.Machine.resets > resets, "no reset on a new address")
    fakes.WLAN.ip = "192.168.1.50"
    resets = fakes.Machine.resets
    fakes.WLAN.instance.connected = False
    asyncio.run(run_for(hal._watch_network(), 60))
    check(fakes.Machine.resets > resets, "no reset on a lost link")


def test_inputs_pull_up_and_report_active_low_after_two_polls():
    esp32.INPUT_POLL_MS = 5
    hal = esp32.Hal({})
    seen = []
    hal.input(0, {"name": "doorbell", "kind": "button"}, seen.append)
    pin = fakes.Pin.made[-1]
    check((pin.number, pin.mode, pin.pull) == (0, fakes.Pin.IN, fakes.Pin.PULL_UP), "pin mode")
    asyncio.run(run_for(hal._poll_inputs(), 40))
    check(seen and set(seen) == {0}, seen)  # released: pulled up, reads 1, reports 0
    pin.level = 0  # pressed: closes to ground
    del seen[:]
    asyncio.run(run_for(hal._poll_inputs(), 40))
    check(seen and seen[-1] == 1, seen)


def test_outputs_and_pwm():
    hal = esp32.Hal({})
    relay = hal.output(5)
    check((relay.number, relay.mode) == (5, fakes.Pin.OUT), "relay pin")
    lamp = hal.pwm(18, 1000)
    check((lamp.pin.number, lamp.freq, lamp.duty_u16()) == (18, 1000, 0), "pwm")
    check(hal.pins() == {}, "pins() is the unix port's control channel only")


def test_dht22_and_ntc_sensors_in_hundredths():
    esp32.SENSOR_PERIOD_MS = 5
    hal = esp32.Hal({})
    seen = []
    hal.sensor({"name": "climate", "sensor": "dht22", "pin": 4}, lambda t, h: seen.append((t, h)))
    asyncio.run(run_for(hal._poll_sensors(), 20))
    check(seen and seen[0] == (2150, 4025), seen)

    hal = esp32.Hal({})
    seen = []
    fakes.ADC.microvolts = 1500000
    entry = {"name": "ntc", "sensor": "ntc", "pin": 34, "scale": 0.1, "offset": -50.0}
    hal.sensor(entry, lambda t, h: seen.append((t, h)))
    asyncio.run(run_for(hal._poll_sensors(), 20))
    check(seen and seen[0] == (10000, None), seen)  # 1500 mV * 0.1 - 50 = 100.00


def test_a_failing_sensor_keeps_the_loop_running():
    esp32.SENSOR_PERIOD_MS = 5
    hal = esp32.Hal({})
    calls = []

    def broken():
        calls.append(1)
        raise OSError(110)  # ETIMEDOUT, as a DHT22 that does not answer

    seen = []
    hal._sensors.append((broken, lambda t, h: seen.append((t, h))))
    asyncio.run(run_for(hal._poll_sensors(), 30))
    check(len(calls) >= 2 and not seen, (calls, seen))


def test_state_survives_a_restart_and_board_id_is_the_chip_id():
    esp32.STATE_DIR = scratch + "/state"
    hal = esp32.Hal({})
    check(hal.load("boot_id") is None, "state before the first store")
    hal.store("boot_id", b"7")
    hal.store("boot_id", b"8")  # replaces the file (rename over it)
    check(esp32.Hal({}).load("boot_id") == b"8", "boot id lost")
    check(hal.board_id() == fakes.Machine.unique_id(), "board id")
    check(esp32.parse_args(["--anything"]) == {"config": "config.json"}, "args")


fakes.run_tests(globals())
