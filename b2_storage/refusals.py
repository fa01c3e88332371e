"""What B2 refused, remembered briefly, so that clicks do not ask B2 the same question in a loop.

- An unsealed name (:class:`B2NameNotSealed`: a token for it would open another file too) is
  remembered per token for ``UNSEALED_SECONDS``: asking again raises at once with no B2 call
  (a signed link answers 403), and the conflict and its fix are logged once per window. So is
  a missing name (:class:`B2FileNotFound`: its token would open a file saved later under a
  name that extends it; a signed link answers 404).
- A refused key (:class:`B2AccessRefused`: no ``shareFiles``, another bucket or name prefix, a
  wrong key) is remembered per account and bucket for ``REFUSED_KEY_SECONDS``: every token asked
  for raises at once (a signed link answers 503 with ``Retry-After``), so anonymous traffic
  cannot drive B2 calls; logged once per window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from cachetools import TTLCache

from .exceptions import B2AccessRefused, B2FileNotFound, B2NameNotSealed

logger = logging.getLogger(__name__)
T = TypeVar("T")
UNSEALED_SECONDS = 60
REFUSED_KEY_SECONDS = 60
MAX_REMEMBERED = 4096


class Identified(Protocol):
    """A storage's B2 account, bucket and location, as a digest (see
    ``B2Addressing.storage_identity``): what a refusal of its key is remembered by."""

    @property
    def storage_identity(self) -> str: ...


class Refusals:
    """B2's recent refusals, by token key (unsealed names) and by account and bucket (refused
    keys)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # cachetools caches are not thread-safe
        self._names: TTLCache[str, B2NameNotSealed | B2FileNotFound] = TTLCache(
            MAX_REMEMBERED, UNSEALED_SECONDS, timer=clock
        )
        self._keys: TTLCache[str, tuple[float, B2AccessRefused]] = TTLCache(
            MAX_REMEMBERED, REFUSED_KEY_SECONDS, timer=clock
        )

    def check(self, identity: str, key: str) -> None:
        """Raise again what B2 refused for this account and bucket, or for this token key, if
        still remembered."""
        with self._lock:
            refused_key = self._keys.get(identity)
            unsealed = self._names.get(key)
        if refused_key is not None:
            until, refused = refused_key
            error = B2AccessRefused(str(refused), refused.hint)
            error.retry_after = max(1, int(until - self._clock()))
            raise error
        if isinstance(unsealed, B2NameNotSealed):
            raise B2NameNotSealed(unsealed.name, unsealed.extended_by)
        if unsealed is not None:
            raise B2FileNotFound(unsealed.name)

    def remember(self, storage: Identified, key: str, fetch: Callable[[], T]) -> T:
        """Return ``fetch()``; remember (and log once) what B2 refused before raising it."""
        try:
            return fetch()
        except B2NameNotSealed as exc:
            with self._lock:
                self._names[key] = exc
            logger.warning(
                "b2_storage: no download token for %r of %r for the next %d s: %s",
                exc.name,
                storage,
                UNSEALED_SECONDS,
                exc,
            )
            raise
        except B2FileNotFound as exc:  # no token for a missing name: it would open later files
            with self._lock:
                self._names[key] = exc
            logger.info(
                "b2_storage: no download token for the missing %r of %r for %d s",
                exc.name,
                storage,
                UNSEALED_SECONDS,
            )
            raise
        except B2AccessRefused as exc:
            with self._lock:
                until = self._clock() + REFUSED_KEY_SECONDS
                self._keys[storage.storage_identity] = (until, B2AccessRefused(str(exc), exc.hint))
            logger.error(
                "b2_storage: no download token for %r for the next %d s, without asking B2: %s %s",
                storage,
                REFUSED_KEY_SECONDS,
                exc,
                exc.hint,
            )
            raise

    def clear(self) -> None:
        """Forget every refusal."""
        with self._lock:
            self._names.clear()
            self._keys.clear()
