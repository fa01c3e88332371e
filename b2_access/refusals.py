"""What B2 refused, remembered briefly, so that clicks do not ask B2 the same question in a loop.

- An unsealed name (:class:`B2NameNotSealed`: a token for it would open another file too) is
  remembered per token key for ``UNSEALED_SECONDS``: its links answer 403 with no B2 call, and
  the conflict and its fix are logged once per window.
- A refused key (:class:`B2AccessRefused`: no ``shareFiles``, another bucket or name prefix, a
  wrong key) is remembered per storage for ``REFUSED_KEY_SECONDS``: every link of that storage
  answers 503 with ``Retry-After`` and no B2 call, so anonymous traffic cannot drive B2 calls;
  logged once per window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from cachetools import TTLCache

from b2_storage import B2AccessRefused, B2NameNotSealed

if TYPE_CHECKING:
    from .storages import SignedB2Storage

logger = logging.getLogger(__name__)
T = TypeVar("T")
UNSEALED_SECONDS = 60
REFUSED_KEY_SECONDS = 60
MAX_REMEMBERED = 4096


class Refusals:
    """B2's recent refusals, by token key (unsealed names) and by storage (refused keys)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # cachetools caches are not thread-safe
        self._names: TTLCache[str, B2NameNotSealed] = TTLCache(
            MAX_REMEMBERED, UNSEALED_SECONDS, timer=clock
        )
        self._keys: TTLCache[str, tuple[float, str]] = TTLCache(
            MAX_REMEMBERED, REFUSED_KEY_SECONDS, timer=clock
        )

    def check(self, storage: str, key: str) -> None:
        """Raise again what B2 refused for this storage or token key, if still remembered."""
        with self._lock:
            refused_key = self._keys.get(storage)
            unsealed = self._names.get(key)
        if refused_key is not None:
            until, message = refused_key
            error = B2AccessRefused(message)
            error.retry_after = max(1, int(until - self._clock()))
            raise error
        if unsealed is not None:
            raise B2NameNotSealed(unsealed.name, unsealed.extended_by)

    def remember(self, storage: SignedB2Storage, key: str, fetch: Callable[[], T]) -> T:
        """Return ``fetch()``; remember (and log once) what B2 refused before raising it."""
        try:
            return fetch()
        except B2NameNotSealed as exc:
            with self._lock:
                self._names[key] = exc
            logger.warning(
                "b2_access: 403 for links to %r of %r for the next %d s: %s",
                exc.name, storage, UNSEALED_SECONDS, exc,
            )  # fmt: skip
            raise
        except B2AccessRefused as exc:
            with self._lock:
                self._keys[storage.fingerprint] = (self._clock() + REFUSED_KEY_SECONDS, str(exc))
            logger.error(
                "b2_access: 503 for every link of %r for the next %d s, without asking B2: %s "
                "Give the key the shareFiles capability on this bucket and name prefix.",
                storage, REFUSED_KEY_SECONDS, exc,
            )  # fmt: skip
            exc.retry_after = REFUSED_KEY_SECONDS
            raise

    def clear(self) -> None:
        """Forget every refusal."""
        with self._lock:
            self._names.clear()
            self._keys.clear()
