"""Devices simulated without a LAN (aioclient_mock): appliances, an IGD, SSDP."""
