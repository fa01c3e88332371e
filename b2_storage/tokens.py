"""B2 download tokens, cached: one path for ``B2Storage.url()`` and for signed links.

A token for (account, bucket, prefix, response headers, lifetime) is looked up in this process
(a bounded cachetools ``TLRUCache``), then in a shared Django cache (Redis in production), then
fetched from B2, single-flight: a burst of cold requests makes one B2 call per process, and a
lease in the shared cache lets one process ask B2 while the others wait for its token. A token
is handed out only during the first ``handout`` seconds of its life, so a long download or a
video's later Range requests still find it valid, and it opens nothing after ``lifetime``.

What B2 refused is remembered too (:class:`Refusals`), so that clicks do not repeat the question.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from cachetools import TLRUCache

from .refusals import Identified, Refusals
from .shared_cache import shared_cache

logger = logging.getLogger(__name__)
Headers = tuple[tuple[str, str], ...]
LEASE_SECONDS = 10  # a crashed process's lease expires after this
LEASE_POLL_SECONDS = 0.01
LEASE_POLLS = 300  # wait at most ~3 s for another process's token
LOCAL_SIZE = 1024  # tokens kept in each process


class TokenSource(Identified, Protocol):
    """Where tokens come from: a storage's :class:`~b2_storage.addressing.B2Addressing`."""

    @property
    def token_identity(self) -> str: ...

    def download_token(
        self,
        prefix: str,
        seconds: int,
        headers: Mapping[str, str] | None = None,
        *,
        exact: bool = False,
    ) -> str: ...


@dataclass(frozen=True)
class TokenPolicy:
    """How long B2 tokens live and are handed out, and where processes share them."""

    lifetime: int  # seconds of each B2 token: the B2 URL's whole life
    handout: int  # seconds from the fetch during which a token is handed out
    shared_cache: str | None = None  # a Django cache alias shared by processes, or None


@dataclass(frozen=True)
class TokenRequest:
    """What a token must cover: a name ``prefix`` (with ``exact``, one file's own name, to be
    checked sealed), and the response ``headers`` pinned in it."""

    prefix: str
    headers: Headers = ()
    exact: bool = False


@dataclass(frozen=True)
class CachedToken:
    """A B2 download token and the wall-clock time until which it may be handed out."""

    token: str
    handout_until: float


def process_tokens(local_size: int = LOCAL_SIZE) -> DownloadTokens:
    """Return this process's token cache (shared by ``B2Storage.url()`` and signed links)."""
    return _process_tokens(local_size)  # one entry per size, however it is passed


@functools.cache
def _process_tokens(local_size: int) -> DownloadTokens:
    return DownloadTokens(local_size)


class DownloadTokens:
    """B2 download tokens, cached in process (at most ``local_size``) and in shared caches."""

    def __init__(self, local_size: int = LOCAL_SIZE, clock: Callable[[], float] | None = None):
        self.local_size = local_size
        # Look the clocks up at each call (not at import) so that frozen time applies.
        self._clock = clock or (lambda: time.time())
        self._local: TLRUCache[str, CachedToken] = TLRUCache(
            maxsize=local_size, ttu=self._until, timer=lambda: time.monotonic()
        )
        self._local_lock = threading.Lock()  # cachetools caches are not thread-safe
        self._guard = threading.Lock()
        self._flights: dict[str, threading.Lock] = {}
        self.refusals = Refusals(self._clock)

    def _until(self, _key: str, value: CachedToken, now: float) -> float:
        return now + (value.handout_until - self._clock())

    def token(self, storage: TokenSource, wanted: TokenRequest, policy: TokenPolicy) -> str:
        """Return a B2 download token of the storage's bucket for ``wanted``."""
        key = self.key(storage, wanted, policy)
        cached = self._fresh(self._local_get(key))
        if cached is not None:
            return cached.token
        self.refusals.check(storage.storage_identity, key)
        with self._flight(key):
            shared = policy.shared_cache
            cached = self._fresh(self._local_get(key)) or self._fresh(self._shared_get(shared, key))
            if cached is None:

                def fetch() -> CachedToken:
                    asked_at = self._clock()  # the token's life starts when we ask, not after
                    token = self.refusals.remember(
                        storage,
                        key,
                        lambda: storage.download_token(
                            wanted.prefix,
                            policy.lifetime,
                            dict(wanted.headers),
                            exact=wanted.exact,
                        ),
                    )
                    fetched = CachedToken(token, asked_at + policy.handout)
                    self._shared_set(shared, key, fetched)
                    return fetched

                cached = self._fetch_once_across_processes(shared, key, fetch)
            with self._local_lock:
                self._local[key] = cached
            return cached.token

    def warm_token(
        self, storage: TokenSource, wanted: TokenRequest, policy: TokenPolicy
    ) -> str | None:
        """Return the token from this process's cache only (no I/O at all), or ``None``."""
        cached = self._fresh(self._local_get(self.key(storage, wanted, policy)))
        return None if cached is None else cached.token

    def _fetch_once_across_processes(
        self, alias: str | None, key: str, fetch: Callable[[], CachedToken]
    ) -> CachedToken:
        """Run ``fetch`` in one process at a time: a lease in the shared cache (``add`` is
        atomic on Redis and Memcached) lets the others wait for its token instead of asking B2."""
        if alias is None:
            return fetch()
        lease = f"{key}:lease"
        try:
            leased = bool(shared_cache(alias).add(lease, 1, LEASE_SECONDS))
        except Exception:  # no shared cache right now: this process asks B2 itself
            return fetch()
        if leased:
            try:
                # Another process may have just stored it and released its lease.
                return self._fresh(self._shared_get(alias, key)) or fetch()
            finally:
                with contextlib.suppress(Exception):
                    shared_cache(alias).delete(lease)
        for _ in range(LEASE_POLLS):  # another process is asking B2 right now
            time.sleep(LEASE_POLL_SECONDS)
            cached = self._fresh(self._shared_get(alias, key))
            if cached is not None:
                return cached
        return fetch()  # the other process is slow or gone: ask B2 ourselves

    def clear(self) -> None:
        """Forget the tokens and refusals remembered in this process."""
        with self._local_lock:
            self._local.clear()
        self.refusals.clear()

    def _fresh(self, cached: object) -> CachedToken | None:
        if isinstance(cached, CachedToken) and cached.handout_until > self._clock():
            return cached
        return None

    @staticmethod
    def key(storage: TokenSource, wanted: TokenRequest, policy: TokenPolicy) -> str:
        """Return the cache key of a token (a digest: names and headers stay out of Redis).
        An exact token (one file, checked sealed) never shares an entry with a scope's token
        for the same prefix, which was fetched without that check."""
        raw = repr((storage.token_identity, wanted, policy.lifetime, policy.handout))
        return "b2_storage:token:" + hashlib.sha256(raw.encode()).hexdigest()[:32]

    def _local_get(self, key: str) -> CachedToken | None:
        with self._local_lock:
            return self._local.get(key)

    def _flight(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._flights.get(key)
            if lock is None:
                if len(self._flights) > 4 * self.local_size:
                    idle = [k for k, held in self._flights.items() if not held.locked()]
                    for name in idle:  # a lock in use stays, so its flight stays single
                        del self._flights[name]
                lock = self._flights[key] = threading.Lock()
            return lock

    # The shared cache is an optimization: when its server is down, act as on a miss.
    def _shared_get(self, alias: str | None, key: str) -> object:
        if alias is None:
            return None
        try:
            return shared_cache(alias).get(key)
        except Exception:
            logger.warning("b2_storage: the %r cache failed on a read", alias)
            return None

    def _shared_set(self, alias: str | None, key: str, cached: CachedToken) -> None:
        if alias is None:
            return
        timeout = max(1, int(cached.handout_until - self._clock()))
        try:
            shared_cache(alias).set(key, cached, timeout)
        except Exception:
            logger.warning("b2_storage: the %r cache failed on a write", alias)


def with_token(file_url: str, token: str, headers: Headers) -> str:
    """Return ``file_url`` authorized by ``token``; B2 wants the pinned headers repeated."""
    return f"{file_url}?{urlencode([('Authorization', token), *headers])}"
