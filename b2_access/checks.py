"""System checks: configuration mistakes show in ``manage.py check``, not at the first click.

Ids are public and never reused: see docs/access.md for each.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.urls import Resolver404, resolve

from b2_storage import B2StorageError
from b2_storage.doctor.probe import ProbeFailed, Prober

from .conf import get_access_settings
from .isolation import b2_aliases
from .storages import SignedB2Storage, signed_storages
from .tiers import tiers

MIDDLEWARE = "b2_access.middleware.B2AccessMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
B2_SECONDS = 5.0  # for every B2 call of one deploy check run, together


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check ``B2_ACCESS``, the middleware's place and the URL prefix."""
    try:
        conf = get_access_settings()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="b2_access.E001")]
    messages: list[CheckMessage] = []
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if MIDDLEWARE not in middleware:
        messages.append(
            Error(
                f"{MIDDLEWARE} is not in MIDDLEWARE: signed links would 404.",
                hint=f"Add it after {AUTH_MIDDLEWARE}.",
                id="b2_access.E002",
            )
        )
    elif AUTH_MIDDLEWARE not in middleware or (
        middleware.index(AUTH_MIDDLEWARE) > middleware.index(MIDDLEWARE)
    ):
        messages.append(
            Error(
                f"{MIDDLEWARE} must come after {AUTH_MIDDLEWARE}.",
                hint="It checks request.user.",
                id="b2_access.E003",
            )
        )
    try:
        match = resolve(f"{conf.url_prefix}any-token/any-name")
    except Resolver404:
        match = None
    # b2_access.legacy.urls lives under "/b2/" on purpose: the middleware leaves it what is
    # not shaped like a signed link.
    if match is not None and getattr(match.func, "__module__", "") != "b2_access.legacy.views":
        messages.append(
            Warning(
                f"B2_ACCESS['url_prefix'] {conf.url_prefix!r} shadows a URL pattern of the site.",
                hint="The middleware answers those paths first; choose another prefix.",
                id="b2_access.W004",
            )
        )
    if conf.cache is not None and conf.cache not in getattr(settings, "CACHES", {}):
        messages.append(
            Error(
                f"B2_ACCESS['cache'] names the cache {conf.cache!r}, which is not in CACHES.",
                id="b2_access.E006",
            )
        )
    return messages


def _configured_storages() -> tuple[list[SignedB2Storage], list[CheckMessage]]:
    found: list[SignedB2Storage] = []
    messages: list[CheckMessage] = []
    for alias, backend in b2_aliases():
        if issubclass(backend, SignedB2Storage):
            try:
                storage = storages[alias]
            except (ImproperlyConfigured, B2StorageError) as exc:
                messages.append(Error(f"STORAGES[{alias!r}]: {exc}", id="b2_access.E005"))
                continue
            found.append(storage)  # type: ignore[arg-type]
    return found, messages


def check_storages(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check every signed storage: known tier, and an account-info cache that exists."""
    found, messages = _configured_storages()
    caches = getattr(settings, "CACHES", {})
    for storage in {id(s): s for s in [*found, *signed_storages()]}.values():
        if storage.access.tier not in tiers:
            messages.append(
                Error(
                    f"{storage!r} uses the access tier {storage.access.tier!r}, which is not "
                    f"registered (known: {', '.join(tiers.names())}).",
                    hint="Register it with @b2_access.tier(...) in a module imported at start-up.",
                    id="b2_access.E007",
                )
            )
        info = storage.config.account_info
        if info.get("backend") == "django-cache" and info.get("cache", "b2") not in caches:
            messages.append(
                Error(
                    f"{storage!r} keeps B2 account info in the cache {info.get('cache', 'b2')!r}, "
                    "which is not in CACHES.",
                    hint="Add that cache, or set account_info to {'backend': 'memory'}.",
                    id="b2_access.E008",
                )
            )
    return messages


def check_public_buckets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """(Deploy, contacts B2 for at most ``B2_SECONDS``.) Warn about a signed storage on an
    allPublic bucket. B2 is asked directly, one try per call: through the storage, b2sdk would
    retry an unreachable realm five times with back-off (8 s for a closed port, minutes for a
    host that drops packets). A bucket B2 does not describe in time is ``manage.py b2doctor``'s
    to check."""
    messages: list[CheckMessage] = []
    prober = Prober(budget=B2_SECONDS)
    for storage in signed_storages():
        if storage.access.tier == "public":
            continue
        try:
            grant = prober.authorize(storage.config)
            public = prober.bucket_type(grant, storage.config.bucket) == "allPublic"
        except ProbeFailed:
            continue
        if public:
            messages.append(
                Warning(
                    f"{storage!r} signs {storage.access.tier!r} links to the allPublic bucket "
                    f"{storage.config.bucket!r}: anyone can read its files without a link.",
                    hint="Make the bucket allPrivate, or use the public tier.",
                    id="b2_access.W009",
                )
            )
    return messages
