# IPv4 addresses as the agent accepts them: dotted-quad literals only (no names, no
# shorthand or octal forms), and the agent's own subnet, which bounds whom it answers
# (SSDP) and where it sends events (GENA callbacks).
from .compat import is_digits


def ip_to_int(text):
    """Dotted-quad IPv4 literal -> int, or None (no names, no shorthand forms)."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not is_digits(part) or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value << 8 | octet
    return value


def ip_to_bytes(text):
    """Dotted-quad literal -> its 4 bytes in network order, for socket options (the
    ESP32 port's socket module has no inet_pton). ValueError for anything else."""
    if ip_to_int(text) is None:
        raise ValueError("not an IPv4 literal")
    return bytes([int(part) for part in text.split(".")])


class Subnet:
    """The agent's own subnet: `contains()` is true for its hosts (not the network or
    broadcast address)."""

    def __init__(self, ip, prefix_len):
        self.ip = ip
        self.mask = (0xFFFFFFFF << (32 - prefix_len)) & 0xFFFFFFFF
        self.network = ip_to_int(ip) & self.mask
        self.broadcast = self.network | (~self.mask & 0xFFFFFFFF)

    def contains(self, ip):
        value = ip if isinstance(ip, int) else ip_to_int(ip)
        return (
            value is not None
            and value & self.mask == self.network
            and value not in (self.network, self.broadcast)
        )
