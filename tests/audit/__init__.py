"""Tests of the network audit (custom_components/upnp_guard/audit/)."""
