"""Constants for UPnP Guard."""

from typing import Final

DOMAIN: Final = "upnp_guard"

CONF_LOCATION: Final = "location"
CONF_UDN: Final = "udn"
CONF_DEVICE_TYPE: Final = "device_type"

# Seconds to wait for a device description before giving up.
DESCRIPTION_TIMEOUT: Final = 10
