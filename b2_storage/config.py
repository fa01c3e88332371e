"""``StorageConfig``: the options of a B2 storage, merged, validated once and frozen.

Options come from ``settings.B2_STORAGE`` (defaults shared by every B2 storage), overridden by a
storage's ``OPTIONS`` or keyword arguments. An unknown option, a missing one or one of the wrong
type raises :class:`B2ConfigurationError` naming the key and the expected type, never the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from .exceptions import B2ConfigurationError
from .options import check_fields

ACCOUNT_INFO_BACKENDS = ("django-cache", "sqlite", "memory")

TIMEOUTS = ("connect_timeout", "read_timeout", "link_timeout")
MAX_TIMEOUT = 3600.0
ACTIVE_CONTENT = ("attachment", "inline")
LAYOUTS = ("flat", "folder-per-file")


@dataclass(frozen=True, kw_only=True)
class StorageConfig:
    """The validated options of one B2 storage."""

    bucket: str
    application_key_id: str
    application_key: str = field(repr=False)  # never in repr, logs or errors
    realm: str = "production"
    location: str = ""
    account_info: Mapping[str, Any] = field(
        default_factory=lambda: {"backend": "django-cache", "cache": "b2"}
    )
    authorize_on_init: bool = False
    validate_on_init: bool = False
    create_bucket: bool | str = False
    allow_overwrite: bool = False
    file_info: Mapping[str, str] = field(default_factory=dict)
    cdn_url: str | None = None
    part_size: int = 100 * 1000 * 1000
    metadata_cache: Mapping[str, float] | bool = True
    url_expires: int = 3600
    content_types: Mapping[str, str] = field(default_factory=dict)  # ".ext" -> type
    active_content: str = "attachment"  # HTML, SVG, XML, JS: stored as attachments
    layout: str = "flat"  # or "folder-per-file": <dir>/<random id>/<name>, one token per folder
    connect_timeout: float = 5.0  # each attempt to connect to B2
    read_timeout: float = 30.0  # each wait for B2's answer (or the next bytes of a download)
    link_timeout: float = 10.0  # all of a link's B2 calls (a click's token, a private url())

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], *, kind: str = "B2Storage", also: Iterable[str] = ()
    ) -> StorageConfig:
        """Return the config of ``settings.B2_STORAGE`` overridden by ``options`` (``also``:
        option names a subclass takes out of ``options`` before, for the unknown-key message)."""
        merged = {**getattr(settings, "B2_STORAGE", {}), **options}
        check_fields(
            cls,
            merged,
            named=lambda key: f"{kind} option {key!r}",
            error=B2ConfigurationError,
            what=f"{kind} option",
            also=also,
        )
        config = cls(**merged)
        config._check_values(kind)
        return config

    def _check_values(self, kind: str) -> None:
        if self.part_size < 1:
            raise B2ConfigurationError(f"{kind} option 'part_size' must be positive.")
        if isinstance(self.create_bucket, str) and self.create_bucket not in (
            "allPrivate",
            "allPublic",
        ):
            raise B2ConfigurationError(
                f"{kind} option 'create_bucket' must be a bool, 'allPrivate' or 'allPublic'."
            )
        backend = self.account_info.get("backend")
        if backend not in ACCOUNT_INFO_BACKENDS:
            raise B2ConfigurationError(
                f"{kind} option 'account_info' needs 'backend', one of "
                f"{', '.join(ACCOUNT_INFO_BACKENDS)}."
            )
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.file_info.items()):
            raise B2ConfigurationError(f"{kind} option 'file_info' must map str to str.")
        if not 1 <= self.url_expires <= 604800:
            raise B2ConfigurationError(f"{kind} option 'url_expires' must be 1 to 604800 seconds.")
        for option, allowed in (("active_content", ACTIVE_CONTENT), ("layout", LAYOUTS)):
            if getattr(self, option) not in allowed:
                raise B2ConfigurationError(
                    f"{kind} option {option!r} must be one of {', '.join(map(repr, allowed))}."
                )
        if not all(
            isinstance(k, str) and k.startswith(".") and isinstance(v, str) and "/" in v
            for k, v in self.content_types.items()
        ):
            raise B2ConfigurationError(
                f"{kind} option 'content_types' must map suffixes such as '.md' to content types "
                "such as 'text/markdown'."
            )
        for option in TIMEOUTS:
            seconds = getattr(self, option)
            if not (0 < seconds <= MAX_TIMEOUT):  # also refuses NaN
                raise B2ConfigurationError(
                    f"{kind} option {option!r} must be more than 0 and at most {MAX_TIMEOUT:.0f} "
                    "seconds."
                )
        if self.location.startswith("/") or self.location.endswith("/"):
            raise B2ConfigurationError(f"{kind} option 'location' must not start or end with '/'.")

    def key_source(self) -> str:
        """Return where this storage's application key is set (for an error, never the key)."""
        shared = getattr(settings, "B2_STORAGE", {})
        if shared.get("application_key_id") == self.application_key_id:
            return "B2_STORAGE['application_key_id'] and B2_STORAGE['application_key']"
        return "the storage's 'application_key_id' and 'application_key' options"

    @property
    def cache_ttl(self) -> float:
        """Return the metadata cache's TTL in seconds (0: no cache)."""
        if self.metadata_cache is False:
            return 0.0
        if self.metadata_cache is True:
            return 60.0
        return float(self.metadata_cache.get("ttl", 60.0))

    @property
    def cache_maxsize(self) -> int:
        """Return how many files' metadata the cache holds at most."""
        if isinstance(self.metadata_cache, bool):
            return 4096
        return int(self.metadata_cache.get("maxsize", 4096))
