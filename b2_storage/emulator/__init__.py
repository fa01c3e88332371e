"""A local Backblaze B2 server (the native API over HTTP on loopback), for tests and examples.

``LocalB2`` runs it in-process; ``python -m b2_storage.emulator`` runs it from the command line.
"""

from __future__ import annotations

from .local import LocalB2

__all__ = ["LocalB2"]
