"""System checks: configuration mistakes show in ``manage.py check``, not at the first click.

Ids are public and never reused: see docs/access.md for each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import combinations
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.urls import Resolver404, resolve
from django.utils.module_loading import import_string

from b2_storage import B2Storage, B2StorageError
from b2_storage.doctor.probe import ProbeFailed, Prober

from .conf import get_access_settings
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


def _b2_aliases() -> Iterator[tuple[str, type[B2Storage]]]:
    """Yield each ``STORAGES`` alias whose backend is a B2 storage, with that backend."""
    for alias, entry in getattr(settings, "STORAGES", {}).items():
        try:
            backend = import_string(entry.get("BACKEND", ""))
        except ImportError:
            continue
        if isinstance(backend, type) and issubclass(backend, B2Storage):
            yield alias, backend


def _configured_storages() -> tuple[list[SignedB2Storage], list[CheckMessage]]:
    found: list[SignedB2Storage] = []
    messages: list[CheckMessage] = []
    for alias, backend in _b2_aliases():
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


# -- isolation: B2 download tokens cover a name prefix (docs/DESIGN "What a link grants") -------
Named = tuple[str, B2Storage]  # how a message names the storage, and the storage


def _by_bucket() -> list[list[Named]]:
    """Return the B2 storages of ``STORAGES`` (named by alias) and every signed storage of this
    process (named by repr), each once, grouped by realm and bucket. No I/O beyond what building
    a ``STORAGES`` entry does; one that fails to build is E005's to report."""
    named: dict[B2Storage, str] = {}  # equal storages (==) are one
    for alias, _backend in _b2_aliases():
        try:
            storage = storages[alias]
        except (ImproperlyConfigured, B2StorageError):
            continue
        if isinstance(storage, B2Storage):
            named.setdefault(storage, f"STORAGES[{alias!r}]")
    for signed in signed_storages():
        named.setdefault(signed, repr(signed))
    groups: defaultdict[tuple[str, str], list[Named]] = defaultdict(list)
    for storage, label in named.items():
        groups[storage.config.realm, storage.config.bucket].append((label, storage))
    return list(groups.values())


def _area(storage: B2Storage) -> str:
    """Return the B2 name prefix of a storage's files: ``location/``, or "" (the bucket)."""
    return f"{storage.config.location}/" if storage.config.location else ""


def _overlap(one: str, other: str) -> bool:
    return one.startswith(other) or other.startswith(one)


def check_tier_isolation(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check that signed storages of one bucket whose tier or scope differ keep prefix-disjoint
    locations, since a B2 download token for ``docs/a`` also opens ``docs/ab`` and ``docs/a/x``.

    Storages that differ only in ``expires`` or ``attachment`` may share a location: whoever
    holds a link of one could open the same files with a link of the other, of their own.
    """
    messages: list[CheckMessage] = []
    for group in _by_bucket():
        signed = [(label, s) for label, s in group if isinstance(s, SignedB2Storage)]
        for (label_a, a), (label_b, b) in combinations(signed, 2):
            if (a.access.tier, a.access.scope) == (b.access.tier, b.access.scope):
                continue
            if _overlap(_area(a), _area(b)):
                messages.append(
                    Error(
                        f"{_describe(label_a, a)} and {_describe(label_b, b)} share the bucket "
                        f"{a.config.bucket!r} in overlapping locations: B2 download tokens cover a "
                        "name prefix, so the B2 URL behind a link of one can open files of the "
                        "other.",
                        hint="Give each a distinct location, neither a prefix of the other (e.g. "
                        '"docs" and "staff-docs"); no location means the whole bucket.',
                        id="b2_access.E010",
                    )
                )
    return messages


def check_scope_coverage(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check that no ``bucket`` or prefix scope hands out B2 download tokens that cover the
    files of another B2 storage (signed, or in ``STORAGES``) with a different location."""
    messages: list[CheckMessage] = []
    for group in _by_bucket():
        for label, storage in group:
            if not isinstance(storage, SignedB2Storage) or storage.access.scope == "file":
                continue
            region = storage.scope_region or ""  # not the file scope, skipped above
            covered = f"every name starting with {region!r}" if region else "every name"
            for other_label, other in group:
                if other.config.location == storage.config.location:
                    continue
                if _overlap(region, _area(other)):
                    messages.append(
                        Error(
                            f"{_describe(label, storage)} hands out B2 download tokens for "
                            f"{covered} in the bucket {storage.config.bucket!r}, which covers the "
                            f"files of {_describe(other_label, other)}.",
                            hint="Give the scoped storage a location of its own that no other "
                            "storage's location starts with, narrow its scope to its own files, "
                            "or use scope 'file'.",
                            id="b2_access.E011",
                        )
                    )
    return messages


def _describe(label: str, storage: B2Storage) -> str:
    location = f"location {storage.config.location!r}"
    if isinstance(storage, SignedB2Storage):
        access = storage.access
        return f"{label} (tier {access.tier!r}, scope {access.scope!r}, {location})"
    return f"{label} ({location})"
