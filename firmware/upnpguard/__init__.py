# UPnP Guard agent: the sans-IO core (ssdp, http, soap, gena, description) plus the
# asyncio shell in shell.py. Nothing here imports socket except shell.py.
FIRMWARE_VERSION = "0.1.0"
