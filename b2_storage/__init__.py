"""A Django storage over Backblaze B2, and a local B2 server to test it with."""

from __future__ import annotations

__version__ = "0.1.0"
