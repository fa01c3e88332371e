"""Where b2sdk keeps an account's authorization: a Django cache (default), SQLite, or memory.

This module and :mod:`.client` are the only ones that import b2sdk, through ``b2sdk.v2`` (the
interface b2sdk 2.x keeps stable; ``b2sdk.v3`` is still being shaped for b2sdk 3).

The Django-cache backend shares the auth token, API URLs and bucket ids between processes but never
the application key: the key id, key and realm stay in this process, so b2sdk can always authorize
again. A lost or expired cache entry reads as ``MissingAccountData``, which :mod:`.client` answers
by authorizing again from settings and carrying on.

Functions holding the key or the auth token are marked ``sensitive_variables``, so Django's error
reports (when ``DEBUG`` is off) hide those locals; with ``DEBUG`` on, Django shows every local, and
:mod:`.translate` keeps b2sdk's frames out of our errors instead.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

from b2sdk.v2 import AbstractAccountInfo, InMemoryAccountInfo, SqliteAccountInfo, UrlPoolAccountInfo
from b2sdk.v2.exception import MissingAccountData
from django.core.cache import InvalidCacheBackendError
from django.views.decorators.debug import sensitive_variables

from .shared_cache import shared_cache

logger = logging.getLogger(__name__)
ENTRY_TIMEOUT = 23 * 3600  # B2's account tokens live 24 hours
WARN_EVERY = 60.0  # seconds between warnings about a cache server that is down


_warned: dict[str, float] = {}  # cache alias -> when this process last said it failed


def cache_failed(alias: str, exc: Exception) -> None:
    """Say that the account-info cache failed: once per process for an alias that is not in
    ``CACHES`` (a set-up mistake), at most once a minute for a cache server that is down."""
    missing = isinstance(exc, InvalidCacheBackendError)
    now = time.monotonic()
    last = _warned.get(alias)
    if last is not None and (missing or now - last < WARN_EVERY):
        return
    _warned[alias] = now
    if missing:
        logger.error(
            "b2_storage: the cache %r is not in CACHES, so B2 account data stays in each process "
            "(add it to CACHES, or set account_info to {'backend': 'memory'}).",
            alias,
        )
    else:
        logger.warning(
            "b2_storage: the %r cache failed (%s); using this process's account data",
            alias,
            type(exc).__name__,
        )


class DjangoCacheAccountInfo(UrlPoolAccountInfo):  # type: ignore[misc]
    """Account info in a Django cache, keyed by realm, key id and key; the key stays here."""

    @sensitive_variables("key")
    def __init__(self, cache_alias: str, realm: str, key_id: str, key: str) -> None:
        super().__init__()
        self._cache_alias = cache_alias
        self._realm = realm
        self._key_id = key_id
        self._key = key
        # Keyed by the key too (an HMAC: the key never leaves this process), so a wrong or
        # revoked key never rides on the token that the right key earned.
        digest = hmac.new(key.encode(), f"{realm}\0{key_id}".encode(), "sha256").hexdigest()[:32]
        self._entry = f"b2_storage:account:{digest}"
        self._local: dict[str, Any] | None = None  # used only while the cache is down

    def __repr__(self) -> str:
        return f"DjangoCacheAccountInfo(cache={self._cache_alias!r}, key_id={self._key_id!r})"

    @sensitive_variables("entry")  # the account's auth token
    def _read(self) -> dict[str, Any]:
        try:
            entry = shared_cache(self._cache_alias).get(self._entry)
        except Exception as exc:  # the cache server is down: carry on with this process's copy
            cache_failed(self._cache_alias, exc)
            entry = self._local
        if not isinstance(entry, dict):
            raise MissingAccountData("auth data")
        return entry

    @sensitive_variables("entry")
    def _write(self, entry: dict[str, Any]) -> None:
        self._local = entry
        try:
            shared_cache(self._cache_alias).set(self._entry, entry, ENTRY_TIMEOUT)
        except Exception as exc:  # the cache server is down: this process's copy still serves
            cache_failed(self._cache_alias, exc)

    def _get(self, name: str) -> Any:
        return self._read()[name]

    def clear(self) -> None:
        """Forget the shared auth data (the key stays, so authorizing again works)."""
        super().clear()
        self._local = None
        with contextlib.suppress(Exception):
            shared_cache(self._cache_alias).delete(self._entry)

    @sensitive_variables("auth_token", "application_key", "entry")
    def _set_auth_data(
        self,
        account_id: str,
        auth_token: str,
        api_url: str,
        download_url: str,
        recommended_part_size: int,
        absolute_minimum_part_size: int,
        application_key: str,
        realm: str,
        s3_api_url: str,
        allowed: Mapping[str, Any],
        application_key_id: str,
    ) -> None:
        entry = {
            "account_id": account_id,
            "auth_token": auth_token,
            "api_url": api_url,
            "download_url": download_url,
            "recommended_part_size": recommended_part_size,
            "absolute_minimum_part_size": absolute_minimum_part_size,
            "s3_api_url": s3_api_url,
            "allowed": dict(allowed),
            "buckets": {},
        }
        self._write(entry)

    # -- what stays in this process -------------------------------------------------------
    def get_application_key_id(self) -> str:
        return self._key_id

    def get_application_key(self) -> str:
        return self._key

    def get_realm(self) -> str:
        return self._realm

    # -- what is shared -------------------------------------------------------------------
    def get_account_id(self) -> str:
        return str(self._get("account_id"))

    def get_account_auth_token(self) -> str:
        return str(self._get("auth_token"))

    def get_api_url(self) -> str:
        return str(self._get("api_url"))

    def get_download_url(self) -> str:
        return str(self._get("download_url"))

    def get_recommended_part_size(self) -> int:
        return int(self._get("recommended_part_size"))

    def get_absolute_minimum_part_size(self) -> int:
        return int(self._get("absolute_minimum_part_size"))

    def get_allowed(self) -> dict[str, Any]:
        return dict(self._get("allowed"))

    def get_s3_api_url(self) -> str:
        return str(self._get("s3_api_url"))

    # -- bucket names and ids -------------------------------------------------------------
    def _buckets(self) -> dict[str, str]:
        try:
            return dict(self._read()["buckets"])
        except MissingAccountData:
            return {}

    def _set_buckets(self, buckets: dict[str, str]) -> None:
        try:
            entry = self._read()
        except MissingAccountData:
            return
        entry["buckets"] = buckets
        self._write(entry)

    def refresh_entire_bucket_name_cache(self, name_id_iterable: Any) -> None:
        self._set_buckets(dict(name_id_iterable))

    def get_bucket_id_or_none_from_bucket_name(self, bucket_name: str) -> str | None:
        return self._buckets().get(bucket_name)

    def get_bucket_name_or_none_from_bucket_id(self, bucket_id: str) -> str | None:
        names = [name for name, id_ in self._buckets().items() if id_ == bucket_id]
        return names[0] if names else None

    def list_bucket_names_ids(self) -> list[tuple[str, str]]:
        return list(self._buckets().items())

    def save_bucket(self, bucket: Any) -> None:
        self._set_buckets({**self._buckets(), bucket.name: bucket.id_})

    def remove_bucket_name(self, bucket_name: str) -> None:
        buckets = self._buckets()
        buckets.pop(bucket_name, None)
        self._set_buckets(buckets)


@sensitive_variables("key")
def make_account_info(
    options: Mapping[str, Any], realm: str, key_id: str, key: str
) -> AbstractAccountInfo:
    """Return the account-info backend that ``options`` (the ``account_info`` option) names."""
    backend = options.get("backend", "django-cache")
    if backend == "memory":
        return InMemoryAccountInfo()
    if backend == "sqlite":
        return SqliteAccountInfo(file_name=options.get("path"))
    return DjangoCacheAccountInfo(str(options.get("cache", "b2")), realm, key_id, key)
