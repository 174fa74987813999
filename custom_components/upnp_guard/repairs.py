"""Repair flows: Home Assistant looks for them here; each kind keeps its own."""

from __future__ import annotations

from .router.repairs import async_create_fix_flow

__all__ = ["async_create_fix_flow"]
