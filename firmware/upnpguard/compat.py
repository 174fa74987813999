# The one place that papers over MicroPython/CPython differences, so the sans-IO core
# runs (and is unit-tested) on both interpreters.
try:
    from micropython import const  # noqa: F401
except ImportError:  # CPython

    def const(value):
        return value


try:
    from time import ticks_add, ticks_diff, ticks_ms  # noqa: F401
except ImportError:  # CPython: no wrap-around, plain integers are enough
    import time as _time

    def ticks_ms():
        return int(_time.monotonic() * 1000)

    def ticks_diff(new, old):
        return new - old

    def ticks_add(ticks, delta):
        return ticks + delta


try:
    from os import urandom  # noqa: F401
except ImportError:  # pragma: no cover - every supported port has it
    import random as _random

    def urandom(count):
        return bytes(_random.getrandbits(8) for _ in range(count))


def hexlify(data):
    return "".join("{:02x}".format(b) for b in data)


def is_digits(text):
    """Only ASCII 0-9, at least one. CPython's str.isdigit() also accepts digits such as
    "²" that int() then refuses (found by fuzz/fuzz_agent.py)."""
    if not text:
        return False
    for ch in text:
        if not "0" <= ch <= "9":
            return False
    return True
