"""``settings.B2_ACCESS``, read once into a frozen :class:`AccessSettings` and validated.

``get_access_settings()`` is cached; the cache is cleared when Django's ``setting_changed`` fires
(connected in :class:`b2_access.apps.B2AccessConfig`), so ``override_settings`` works.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from b2_storage.options import check_fields
from b2_storage.tokens import TokenPolicy

from .signing import UrlSigner

MAX_B2_SECONDS = 604800
# django-backblaze-b2's permanent links, by the tier each checked: /b2/ (public), /b2l/, /b2s/.
LEGACY_KINDS = ("public", "logged_in", "staff")


@dataclass(frozen=True, kw_only=True)
class AccessSettings:
    """The validated ``B2_ACCESS`` setting."""

    url_prefix: str = "/b2/"
    expires: int = 300  # seconds a signed Django link stays valid
    # A B2 URL is a bearer credential: it opens its file for min_remaining..token_lifetime
    # seconds after the click (10 to 15 minutes by default), whatever happens to the session.
    token_lifetime: int = 900  # seconds of each B2 download token
    min_remaining: int = 600  # a cached B2 token is handed out while this much of it remains
    cache: str | None = "default"  # the shared Django cache alias for B2 tokens (None: none)
    local_cache_size: int = 1024  # B2 tokens kept in each process
    login_url: str | None = None  # None: settings.LOGIN_URL
    salt: str = "b2_access.download"
    # django-backblaze-b2's old links (b2_access.legacy.urls): old kind -> STORAGES alias
    legacy: Mapping[str, str] = field(default_factory=dict)

    @property
    def handout_seconds(self) -> int:
        """Return how long a fresh B2 token may be handed out (its lifetime minus the margin)."""
        return self.token_lifetime - self.min_remaining

    @property
    def token_policy(self) -> TokenPolicy:
        """Return the B2 token policy of signed links."""
        return TokenPolicy(
            lifetime=self.token_lifetime, handout=self.handout_seconds, shared_cache=self.cache
        )


def parse_access_settings(raw: dict[str, Any]) -> AccessSettings:
    """Return ``raw`` (a ``B2_ACCESS`` dict) validated, or raise ``ImproperlyConfigured``."""
    check_fields(
        AccessSettings,
        raw,
        named=lambda key: f"B2_ACCESS[{key!r}]",
        error=ImproperlyConfigured,
        what="B2_ACCESS key",
    )
    if "legacy" in raw:
        raw = {**raw, "legacy": _legacy_aliases(raw["legacy"])}
    conf = AccessSettings(**raw)
    prefix = conf.url_prefix
    if not (prefix.startswith("/") and prefix.endswith("/") and len(prefix) > 2):
        raise ImproperlyConfigured("B2_ACCESS['url_prefix'] must look like '/b2/'.")
    for key in ("expires", "token_lifetime"):
        if not 1 <= getattr(conf, key) <= MAX_B2_SECONDS:
            raise ImproperlyConfigured(f"B2_ACCESS[{key!r}] must be 1 to {MAX_B2_SECONDS} seconds.")
    if not 0 <= conf.min_remaining < conf.token_lifetime:
        raise ImproperlyConfigured(
            "B2_ACCESS['min_remaining'] must be at least 0 and less than 'token_lifetime'."
        )
    return conf


def _legacy_aliases(legacy: dict[Any, Any]) -> Mapping[str, str]:
    """Return ``B2_ACCESS["legacy"]`` checked: known kinds, each naming a ``STORAGES`` alias.
    (That the alias is a signed storage of the kind's tier is checked by b2_access.E012/E013.)"""
    aliases = getattr(settings, "STORAGES", {})
    for kind, alias in legacy.items():
        if kind not in LEGACY_KINDS:
            raise ImproperlyConfigured(
                f"Unknown B2_ACCESS['legacy'] key {kind!r}; expected one of "
                f"{', '.join(LEGACY_KINDS)} (the old /b2/, /b2l/ and /b2s/ links)."
            )
        if not isinstance(alias, str):
            raise ImproperlyConfigured(
                f"B2_ACCESS['legacy'][{kind!r}] must be a STORAGES alias (str), "
                f"got {type(alias).__name__}."
            )
        if alias not in aliases:
            raise ImproperlyConfigured(
                f"B2_ACCESS['legacy'][{kind!r}] names the storage {alias!r}, which is not in "
                "STORAGES."
            )
    return MappingProxyType(dict(legacy))


@functools.cache
def get_access_settings() -> AccessSettings:
    """Return the validated ``settings.B2_ACCESS`` (cached until settings change)."""
    return parse_access_settings(dict(getattr(settings, "B2_ACCESS", {})))


@functools.cache
def current_signer() -> UrlSigner:
    """Return the signer for the current keys and salt (rebuilt when settings change)."""
    return UrlSigner(signing_keys(), salt=get_access_settings().salt)


def signing_keys() -> list[str]:
    """Return the signing keys, oldest first: ``SECRET_KEY_FALLBACKS`` reversed, then
    ``SECRET_KEY`` (itsdangerous signs with the last and accepts every one)."""
    return [*reversed(list(getattr(settings, "SECRET_KEY_FALLBACKS", []))), settings.SECRET_KEY]
