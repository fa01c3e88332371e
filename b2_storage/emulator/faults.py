"""Fault injection for the local B2 server: fail or drop the next N calls of a named API."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """What to do to one call: answer ``status`` with ``Retry-After``, or drop the connection."""

    status: int = 503
    retry_after: int = 1
    drop: bool = False


class Faults:
    """A thread-safe queue of faults per API name (``"*"`` matches every API)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[Fault]] = {}

    def add(self, api: str, fault: Fault, count: int) -> None:
        """Apply ``fault`` to the next ``count`` calls of ``api``."""
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        with self._lock:
            self._pending.setdefault(api, []).extend([fault] * count)

    def take(self, api: str) -> Fault | None:
        """Return (and use up) the fault for this call of ``api``, if one is pending."""
        with self._lock:
            for name in (api, "*"):
                queue = self._pending.get(name)
                if queue:
                    return queue.pop(0)
        return None

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._pending.clear()
