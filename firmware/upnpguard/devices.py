# The device tree built from the board's JSON config: one root Agent device plus one
# embedded device per configured service, each service bound to pins through the HAL
# objects passed in (the core never imports machine). The service types they offer are
# data in servicetypes.py.
import hashlib

from . import FIRMWARE_VERSION, servicetypes
from .compat import hexlify
from .servicetypes import UpnpError


class ConfigError(Exception):
    pass


class ServiceInstance:
    def __init__(self, service_type, device):
        self.type = service_type
        self.device = device
        self.values = {}
        for var in service_type.variables:
            # An A_ARG_TYPE_ variable only types an argument (UDA 1.1 2.5): it has no value,
            # and an entry per board would be heap for nothing.
            if not var.name.startswith("A_ARG_TYPE_"):
                self.values[var.name] = var.default
        self.listener = None  # GENA's SubscriptionManager.on_change(service, name)
        self.actions = {}  # name -> callable(args dict) -> out dict

    @property
    def short(self):
        return self.type.scpd_name

    @property
    def scpd_path(self):
        return "/scpd/" + self.type.scpd_name + ".xml"

    @property
    def control_path(self):
        return "/{}/{}/ctl/{}".format(self.device.index, self.device.token, self.short)

    @property
    def event_path(self):
        return "/{}/{}/evt/{}".format(self.device.index, self.device.token, self.short)

    def get(self, name):
        return self.values[name]

    def set(self, name, value):
        if self.values.get(name) == value:
            return
        self.values[name] = value
        var = self.type.variable(name)
        if var is not None and var.evented and self.listener is not None:
            self.listener(self, name)

    def encoded(self, name):
        return servicetypes.encode(self.type.variable(name), self.values[name])

    def invoke(self, action_name, args):
        """Run a validated action; out values are encoded strings in SCPD order."""
        handler = self.actions.get(action_name)
        if handler is None:
            raise UpnpError(servicetypes.ERR_INVALID_ACTION)
        handler(args)
        action = self.type.action(action_name)
        return [(arg.name, self.encoded(arg.variable)) for arg in action.args_out]


class Device:
    def __init__(self, index, device_type, udn, friendly_name, token):
        self.index = index
        self.device_type = device_type
        self.udn = udn
        self.friendly_name = friendly_name
        self.token = token
        self.services = []
        self.children = []
        self.name = ""

    def add(self, service_type):
        service = ServiceInstance(service_type, self)
        self.services.append(service)
        return service

    def all_devices(self):
        yield self
        for child in self.children:
            yield from child.all_devices()

    def all_services(self):
        for device in self.all_devices():
            yield from device.services


def make_udn(board_id, name):
    """A UUID that stays the same for a board and a service name across reboots."""
    digest = hashlib.sha256(board_id + b"/" + name.encode()).digest()
    text = hexlify(digest[:16])
    # Version 5-style bits so strict parsers see a well-formed UUID.
    text = text[:12] + "5" + text[13:16] + "8" + text[17:]
    return "uuid:{}-{}-{}-{}-{}".format(text[:8], text[8:12], text[12:16], text[16:20], text[20:32])


def _bind_switch(power, pin, on_output=None):
    def apply(value):
        power.set("Target", value)
        if on_output is None:
            pin.value(1 if value else 0)
        else:
            on_output()
        power.set("Status", value)

    power.actions["SetTarget"] = lambda args: apply(args["newTargetValue"])
    power.actions["GetTarget"] = lambda args: None
    power.actions["GetStatus"] = lambda args: None


def _bind_dimmer(power, dimming, pwm):
    duty_full = 65535

    def output():
        on = power.get("Target")
        level = dimming.get("LoadLevelTarget")
        # Duty follows the level while the light is on (Dimming:1 2.2: level is kept
        # while switched off).
        pwm.duty_u16(duty_full * level // 100 if on else 0)
        dimming.set("LoadLevelStatus", level)

    _bind_switch(power, None, output)

    def set_level(args):
        dimming.set("LoadLevelTarget", args["newLoadlevelTarget"])
        output()

    dimming.actions["SetLoadLevelTarget"] = set_level
    dimming.actions["GetLoadLevelTarget"] = lambda args: None
    dimming.actions["GetLoadLevelStatus"] = lambda args: None
    return output


# Bindings are closures, not classes: on MicroPython a class costs ~0.2 KB of heap for
# its type object alone, a closure only its cells.
def _bind_binary_input(service):
    """The HAL's update(level) for a button or contact: State, and PressCount + 1 on
    each activation (button: press; contact: close)."""
    service.actions["GetState"] = lambda args: None

    def update(active):
        active = bool(active)
        if active == service.get("State"):
            return
        if active:
            service.set("PressCount", (service.get("PressCount") + 1) & 0xFFFFFFFF)
        service.set("State", active)

    return update


def _bind_sensor(temperature, humidity):
    """The HAL's update(temperature, humidity) in hundredths; None keeps a value."""
    temperature.actions["GetCurrentTemperature"] = lambda args: None
    humidity.actions["GetCurrentHumidity"] = lambda args: None

    def update(temp_centi, rh_centi):
        if temp_centi is not None:
            temperature.set("CurrentTemperature", max(-27315, min(100000, int(temp_centi))))
        if rh_centi is not None:
            humidity.set("CurrentHumidity", max(0, min(10000, int(rh_centi))))

    return update


def _name(entry, index):
    name = entry.get("name")
    if not isinstance(name, str) or not name or len(name) > 32:
        raise ConfigError("service {} needs a name of 1..32 characters".format(index))
    return name


def build_devices(config, board_id, hal, tokens, boot_id, uptime, security_mode="open"):
    """Root device and embedded devices from `config` (the board's JSON as a dict).

    `hal` offers output(pin), pwm(pin, freq), sensor(entry, update) and
    input(pin, entry, update): the HAL calls `update` with new readings. `tokens(n)`
    returns the random URL component of device n; `uptime()` the seconds since boot.
    Raises ConfigError for a config it cannot serve.
    """
    entries = config.get("services") or []
    if not isinstance(entries, list) or len(entries) > 8:
        raise ConfigError("services must be a list of at most 8 entries")
    friendly = config.get("friendly_name") or "UPnP Guard Agent"
    root = Device(0, servicetypes.ROOT_DEVICE_TYPE, make_udn(board_id, ""), friendly, tokens(0))
    info = root.add(servicetypes.AGENT_INFO)
    info.values["FirmwareVersion"] = FIRMWARE_VERSION
    info.values["BootId"] = boot_id
    info.values["SecurityMode"] = security_mode

    def get_info(args):
        info.values["Uptime"] = uptime()

    info.actions["GetInfo"] = get_info
    seen = set()
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError("service {} is not an object".format(index))
        kind = entry.get("kind")
        if kind not in servicetypes.DEVICE_TYPES:
            raise ConfigError("service {}: unknown kind {!r}".format(index, kind))
        name = _name(entry, index)
        if name in seen:
            raise ConfigError("duplicate service name " + name)
        seen.add(name)
        device_type, service_types = servicetypes.DEVICE_TYPES[kind]
        device = Device(
            index,
            device_type,
            make_udn(board_id, name),
            str(entry.get("friendly_name") or name)[:64],
            tokens(index),
        )
        device.name = name
        root.children.append(device)
        services = [device.add(st) for st in service_types]
        pin = entry.get("pin")
        if kind in ("switch", "dimmer", "button", "contact") and not isinstance(pin, int):
            raise ConfigError("service {} needs an integer pin".format(name))
        if kind == "switch":
            output = hal.output(pin)
            output.value(0)
            _bind_switch(services[0], output)
        elif kind == "dimmer":
            pwm = hal.pwm(pin, int(entry.get("freq", 1000)))
            _bind_dimmer(services[0], services[1], pwm)()  # the PWM starts at the level
        elif kind == "sensor":
            hal.sensor(entry, _bind_sensor(services[0], services[1]))
        else:
            hal.input(pin, entry, _bind_binary_input(services[0]))
    return root
