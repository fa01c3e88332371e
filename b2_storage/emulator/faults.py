"""Fault injection for the local B2 server.

Two kinds of plans, both per B2 API name (``"*"`` matches every API):

- :class:`Fault`: what to do to one call instead of (or while) answering it: B2's error answer
  (503/429 with ``Retry-After``, 401 ``expired_auth_token``, 500), a dropped connection, or a body
  cut short (a download's response, an upload's request) followed by a closed connection. Faults
  queue: the next N calls of the API get them, one each.
- a page limit: listing calls answer at most that many entries a page (B2 may answer fewer than
  ``maxFileCount``; clients follow ``nextFileName``), so that a short listing spans pages.
- :class:`Trigger`: an action run when the N-th call of an API (counted from when it was added)
  arrives, or just before that call is answered; the call itself is then handled normally. Used
  to expire tokens between the parts of a large file, or to stop the server mid-upload.

Every fault and trigger that fires is counted by kind (:attr:`Faults.injected`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PAGED = ("b2_list_file_names", "b2_list_file_versions")
# B2's codes for the statuses a fault may answer with.
CODES = {
    401: "expired_auth_token",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class Fault:
    """What to do to one call: answer ``status`` (with ``Retry-After`` for 429/503), drop the
    connection, or (``cut_after``) pass only that many bytes of the body, then close."""

    status: int = 503
    retry_after: int = 1
    drop: bool = False
    cut_after: int | None = None

    @property
    def kind(self) -> str:
        """Return the name this fault is counted under: ``drop``, ``cut`` or the status."""
        if self.drop:
            return "drop"
        if self.cut_after is not None:
            return "cut"
        return str(self.status)


@dataclass
class Trigger:
    """Run ``action`` when the ``remaining``-th call of ``api`` arrives (``on_answer``: just
    before it is answered)."""

    api: str
    remaining: int
    action: Callable[[], None]
    on_answer: bool = False


class Faults:
    """Thread-safe queues of faults and lists of triggers per API name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[Fault]] = {}
        self._triggers: list[Trigger] = []
        self._injected: Counter[str] = Counter()
        self.page_limit: int | None = None

    def add(self, api: str, fault: Fault, count: int) -> None:
        """Apply ``fault`` to the next ``count`` calls of ``api``."""
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        with self._lock:
            self._pending.setdefault(api, []).extend([fault] * count)

    def take(self, api: str, *, body: bool = True) -> Fault | None:
        """Return (and use up) the fault for this call of ``api``, if one is pending. A call
        without a body (``body=False``: a HEAD) leaves the faults that cut a body pending."""
        with self._lock:
            for name in (api, "*"):
                queue = self._pending.get(name) or []
                for index, fault in enumerate(queue):
                    if body or fault.cut_after is None:
                        del queue[index]
                        self._injected[fault.kind] += 1
                        return fault
        return None

    def add_trigger(self, trigger: Trigger) -> None:
        """Run ``trigger.action`` on the ``trigger.remaining``-th call of ``trigger.api``."""
        if trigger.remaining < 1:
            raise ValueError(f"nth must be at least 1, not {trigger.remaining}")
        with self._lock:
            self._triggers.append(trigger)

    def fired(self, api: str) -> list[Trigger]:
        """Count this call of ``api`` for every trigger; return (and forget) those due now."""
        due: list[Trigger] = []
        with self._lock:
            for trigger in list(self._triggers):
                if trigger.api not in (api, "*"):
                    continue
                trigger.remaining -= 1
                if trigger.remaining == 0:
                    self._triggers.remove(trigger)
                    self._injected["trigger"] += 1
                    due.append(trigger)
        return due

    def shorten(self, api: str, params: dict[str, Any]) -> None:
        """Lower ``maxFileCount`` in the parameters of a listing call to the page limit."""
        limit = self.page_limit
        if limit is None or api not in PAGED:
            return
        asked = params.get("maxFileCount", 100)
        if isinstance(asked, str) and asked.isdigit():
            asked = int(asked)
        if isinstance(asked, int) and not isinstance(asked, bool) and asked > limit:
            params["maxFileCount"] = limit
            with self._lock:
                self._injected["short_page"] += 1

    @property
    def injected(self) -> Counter[str]:
        """Return how many faults fired, by kind (``503``, ``429``, ``drop``, ``cut``, ...)."""
        with self._lock:
            return Counter(self._injected)

    def clear(self) -> None:
        """Forget every pending fault and trigger (the counts of those that fired stay)."""
        with self._lock:
            self._pending.clear()
            self._triggers.clear()
        self.page_limit = None
