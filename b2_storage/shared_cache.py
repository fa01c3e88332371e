"""One Django cache object per alias per process, for the caches this package shares.

``django.core.cache.caches[alias]`` hands each thread, and under ASGI each request's context, a
cache object of its own; a ``RedisCache`` object opens its own connection pool and has no
``close()``, so every request that touched Redis left a connection open until the garbage
collector came by (hundreds per worker under load). The token cache and the account info use
one object per alias instead: redis-py's pools, memcached's pooled clients and ``LocMemCache``
are safe to share between threads. A change of ``CACHES`` (``override_settings``) starts afresh.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import BaseCache, InvalidCacheBackendError, caches
from django.core.signals import setting_changed

_lock = threading.Lock()
_shared: dict[str, BaseCache] = {}


def shared_cache(alias: str) -> BaseCache:
    """Return this process's cache object for ``alias`` (``InvalidCacheBackendError`` if none)."""
    cache = _shared.get(alias)
    if cache is None:
        with _lock:
            cache = _shared.get(alias)
            if cache is None:
                if alias not in caches.settings:
                    raise InvalidCacheBackendError(f"The cache {alias!r} is not in CACHES.")
                cache = _shared[alias] = caches.create_connection(alias)
    return cache


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        with _lock:
            _shared.clear()


setting_changed.connect(_forget, dispatch_uid="b2_storage.shared_cache")
