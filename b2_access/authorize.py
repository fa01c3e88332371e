"""B2 download-authorization URLs for signed grants, with their tokens cached.

A B2 download token is looked up in this process (a cachetools ``TLRUCache``, bounded), then in the
shared Django cache (Redis in production), then fetched from B2, single-flight: a burst of cold
requests for the same (storage, scope, headers) makes one B2 call per process. A token is handed
out only while at least ``min_remaining`` seconds of it remain, so a long download or a video's
later Range requests still find it valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from cachetools import TLRUCache
from django.core.cache import caches

from .conf import AccessSettings
from .refusals import Refusals
from .signing import Grant

if TYPE_CHECKING:
    from .storages import SignedB2Storage

logger = logging.getLogger(__name__)
Overrides = tuple[tuple[str, str], ...]
LEASE_SECONDS = 10  # a crashed process's lease expires after this
LEASE_POLL_SECONDS = 0.01
LEASE_POLLS = 300  # wait at most ~3 s for another process's token


@dataclass(frozen=True)
class CachedToken:
    """A B2 download token and the wall-clock time until which it may be handed out."""

    token: str
    handout_until: float


def content_disposition(grant: Grant) -> str | None:
    """Return the ``b2ContentDisposition`` for a grant, or ``None`` for inline.

    B2 refuses ``filename*=``: a non-ASCII stored name is left out (browsers then take the name
    from the URL's last segment, which is the real name); a non-ASCII custom filename is reduced
    to an ASCII fallback.
    """
    if not grant.attachment:
        return None
    if grant.filename is None:
        filename = grant.name.rsplit("/", 1)[-1]
        return f'attachment; filename="{filename}"' if _plain_ascii(filename) else "attachment"
    if _plain_ascii(grant.filename):
        return f'attachment; filename="{grant.filename}"'
    fallback = unicodedata.normalize("NFKD", grant.filename).encode("ascii", "ignore").decode()
    fallback = "".join(c for c in fallback if _plain_ascii(c)) or "download"
    return f'attachment; filename="{fallback}"'


def _plain_ascii(text: str) -> bool:
    return all(32 <= ord(c) < 127 and c not in '"\\' for c in text)


def overrides_for(grant: Grant) -> Overrides:
    """Return the B2 response-header overrides a grant pins in its download token."""
    pairs = []
    disposition = content_disposition(grant)
    if disposition is not None:
        pairs.append(("b2ContentDisposition", disposition))
    if grant.cache_control:
        pairs.append(("b2CacheControl", grant.cache_control))
    return tuple(pairs)


def _with_token(file_url: str, token: str, overrides: Overrides) -> str:
    return f"{file_url}?{urlencode([('Authorization', token), *overrides])}"


class DownloadAuthorizer:
    """Turn grants into B2 download URLs, caching B2 tokens in process and in a shared cache."""

    def __init__(self, conf: AccessSettings, clock: Callable[[], float] | None = None) -> None:
        self.conf = conf
        # Look the clocks up at each call (not at import) so that frozen time applies.
        self._clock = clock or (lambda: time.time())
        self._local: TLRUCache[str, CachedToken] = TLRUCache(
            maxsize=conf.local_cache_size, ttu=self._until, timer=lambda: time.monotonic()
        )
        self._local_lock = threading.Lock()  # cachetools caches are not thread-safe
        self._guard = threading.Lock()
        self._flights: dict[str, threading.Lock] = {}
        self.refusals = Refusals(self._clock)

    def _until(self, _key: str, value: CachedToken, now: float) -> float:
        return now + (value.handout_until - self._clock())

    def url(self, storage: SignedB2Storage, grant: Grant) -> str:
        """Return the B2 URL that downloads ``grant``'s file (B2 calls only when cold).

        Raise :class:`B2NameNotSealed` when a token for the file's own name would open another
        file too, and :class:`B2AccessRefused` while B2 refuses the storage's key.
        """
        prefix = storage.token_prefix(grant.name)
        exact = prefix == storage.b2_name(grant.name)
        overrides = overrides_for(grant)
        token = self.token(storage, prefix, overrides, exact=exact)
        return _with_token(storage.file_url(grant.name), token, overrides)

    def warm_url(self, storage: SignedB2Storage, grant: Grant) -> str | None:
        """Return the B2 URL from this process's caches only (no I/O at all), or ``None``."""
        overrides = overrides_for(grant)
        key = self._key(storage, storage.token_prefix(grant.name), overrides)
        cached = self._fresh(self._local_get(key))
        file_url = storage.cached_file_url(grant.name)
        if cached is None or file_url is None:
            return None
        return _with_token(file_url, cached.token, overrides)

    def token(
        self, storage: SignedB2Storage, prefix: str, overrides: Overrides, *, exact: bool = False
    ) -> str:
        """Return a B2 download token for ``prefix`` of the storage's bucket (with ``exact``,
        ``prefix`` is one file's name, checked sealed when the token is fetched)."""
        key = self._key(storage, prefix, overrides)
        cached = self._fresh(self._local_get(key))
        if cached is not None:
            return cached.token
        self.refusals.check(storage.fingerprint, key)
        with self._flight(key):
            cached = self._fresh(self._local_get(key)) or self._fresh(self._shared_get(key))
            if cached is None:

                def fetch() -> CachedToken:
                    seconds = self.conf.token_lifetime
                    asked_at = self._clock()  # the token's life starts when we ask, not after
                    token = self.refusals.remember(
                        storage, key,
                        lambda: storage.download_token(prefix, seconds, dict(overrides),
                                                       exact=exact),
                    )  # fmt: skip
                    fetched = CachedToken(token, asked_at + self.conf.handout_seconds)
                    self._shared_set(key, fetched)
                    return fetched

                cached = self._fetch_once_across_processes(key, fetch)
            with self._local_lock:
                self._local[key] = cached
            return cached.token

    def _fetch_once_across_processes(
        self, key: str, fetch: Callable[[], CachedToken]
    ) -> CachedToken:
        """Run ``fetch`` in one process at a time: a lease in the shared cache (``add`` is
        atomic on Redis and Memcached) lets the others wait for its token instead of asking B2."""
        if self.conf.cache is None:
            return fetch()
        shared = caches[self.conf.cache]
        lease = f"{key}:lease"
        try:
            leased = bool(shared.add(lease, 1, LEASE_SECONDS))
        except Exception:  # no shared cache right now: this process asks B2 itself
            return fetch()
        if leased:
            try:
                # Another process may have just stored it and released its lease.
                return self._fresh(self._shared_get(key)) or fetch()
            finally:
                with contextlib.suppress(Exception):
                    shared.delete(lease)
        for _ in range(LEASE_POLLS):  # another process is asking B2 right now
            time.sleep(LEASE_POLL_SECONDS)
            cached = self._fresh(self._shared_get(key))
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
    def _key(storage: SignedB2Storage, prefix: str, overrides: Overrides) -> str:
        raw = repr((storage.fingerprint, storage.config.bucket, prefix, overrides))
        return "b2_access:token:" + hashlib.sha256(raw.encode()).hexdigest()[:32]

    def _local_get(self, key: str) -> CachedToken | None:
        with self._local_lock:
            return self._local.get(key)

    def _flight(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._flights.get(key)
            if lock is None:
                if len(self._flights) > 4 * self.conf.local_cache_size:
                    idle = [k for k, held in self._flights.items() if not held.locked()]
                    for name in idle:  # a lock in use stays, so its flight stays single
                        del self._flights[name]
                lock = self._flights[key] = threading.Lock()
            return lock

    # The shared cache is an optimization: when its server is down, act as on a miss.
    def _shared_get(self, key: str) -> object:
        if self.conf.cache is None:
            return None
        try:
            return caches[self.conf.cache].get(key)
        except Exception:
            logger.warning("b2_access: the %r cache failed on a read", self.conf.cache)
            return None

    def _shared_set(self, key: str, cached: CachedToken) -> None:
        if self.conf.cache is None:
            return
        timeout = max(1, int(cached.handout_until - self._clock()))
        try:
            caches[self.conf.cache].set(key, cached, timeout)
        except Exception:
            logger.warning("b2_access: the %r cache failed on a write", self.conf.cache)
