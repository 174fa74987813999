# Stand-ins for the esp32 port's machine, network and dht modules, so hal/esp32.py runs
# under the unix port. They record what the HAL asks of the board; the test drives them.
# MicroPython only (installed into sys.modules by run_hal_esp32.py).


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 2
    made = []

    def __init__(self, number, mode=None, pull=None):
        self.number = number
        self.mode = mode
        self.pull = pull
        self.level = 1 if pull == Pin.PULL_UP else 0
        Pin.made.append(self)

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = level
        return None


class PWM:
    def __init__(self, pin, freq=0, duty_u16=0):
        self.pin = pin
        self.freq = freq
        self.duty = duty_u16

    def duty_u16(self, duty=None):
        if duty is None:
            return self.duty
        self.duty = duty
        return None


class ADC:
    ATTN_11DB = 3
    microvolts = 0

    def __init__(self, pin, atten=None):
        self.pin = pin
        self.atten = atten

    def read_uv(self):
        return ADC.microvolts


class WDT:
    made = []

    def __init__(self, timeout=0):
        self.timeout = timeout
        self.fed = 0
        WDT.made.append(self)

    def feed(self):
        self.fed += 1


class Machine:
    """The `machine` module."""

    Pin = Pin
    PWM = PWM
    ADC = ADC
    WDT = WDT
    resets = 0

    @staticmethod
    def unique_id():
        return b"\x24\x6f\x28\x01\x02\x03"

    @staticmethod
    def reset():
        Machine.resets += 1


class WLAN:
    """network.WLAN: connects after `connect_after` connect() calls."""

    connect_after = 1
    ip = "192.168.1.50"
    mask = "255.255.255.0"
    instance = None

    def __init__(self, interface):
        self.interface = interface
        self.active_state = False
        self.connect_calls = []
        self.connected = False
        WLAN.instance = self

    def active(self, state=None):
        if state is not None:
            self.active_state = state
        return self.active_state

    def connect(self, ssid, password):
        self.connect_calls.append((ssid, password))
        if len(self.connect_calls) >= WLAN.connect_after:
            self.connected = True

    def isconnected(self):
        return self.connected

    def ifconfig(self):
        return (WLAN.ip, WLAN.mask, "192.168.1.1", "192.168.1.1")


class Network:
    """The `network` module."""

    STA_IF = 0
    WLAN = WLAN


class DHT22:
    reading = (21.5, 40.25)

    def __init__(self, pin):
        self.pin = pin
        self.measured = 0

    def measure(self):
        self.measured += 1

    def temperature(self):
        return DHT22.reading[0]

    def humidity(self):
        return DHT22.reading[1]


class Dht:
    """The `dht` module."""

    DHT22 = DHT22


def run_tests(namespace):
    """Run every `test_*` function of a runner module (its globals()), in name order, and
    print one line each and the totals: what the pytest side reads."""
    passed = failed = 0
    for name in sorted(namespace):
        if name.startswith("test_"):
            try:
                namespace[name]()
                print("ok", name)
                passed += 1
            except Exception as err:
                print("FAIL", name, type(err).__name__, err)
                failed += 1
    print("passed", passed, "failed", failed)
