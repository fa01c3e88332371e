"""Signed, expiring, tier-checked download links that redirect to Backblaze B2."""

from __future__ import annotations
