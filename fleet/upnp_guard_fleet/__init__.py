"""UPnP Guard fleet tools: build the agent into a bundle (bundle.py, `upnp-guard-build`) and
provision a board with it (provision.py, `upnp-guard-provision`). docs/firmware.md."""
