"""The network audit: inventory of UPnP devices, checks, findings (docs/audit.md)."""
