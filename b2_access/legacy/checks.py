"""System checks for django-backblaze-b2's old links (``B2_ACCESS["legacy"]``).

An old link names a file and nothing else: whoever the kind's tier lets through may open any file
of the storage it maps to. So that storage must be a signed storage of that very tier, and no
other storage's files may lie in its part of the bucket. Ids are public and never reused.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.urls import Resolver404, resolve

from ..conf import AccessSettings, get_access_settings
from ..isolation import area, by_bucket, describe
from ..storages import SignedB2Storage
from . import LEGACY_ROUTES

LEGACY_VIEWS = "b2_access.legacy.views"
HINT = {
    "public": "b2_access.PublicStorage",
    "logged_in": "b2_access.LoggedInStorage",
    "staff": "b2_access.StaffStorage",
}


def check_legacy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check the storages of ``B2_ACCESS["legacy"]`` and that the old URLs are routed."""
    try:
        conf = get_access_settings()
    except ImproperlyConfigured:
        return []  # b2_access.E001 says why
    messages = _check_routes(conf)
    legacy: dict[str, SignedB2Storage] = {}
    for kind, alias in conf.legacy.items():
        storage = _build(alias)
        if isinstance(storage, str):
            messages.append(
                Error(
                    f"B2_ACCESS['legacy'][{kind!r}] names STORAGES[{alias!r}], which {storage}.",
                    hint=f"Old /{LEGACY_ROUTES[kind]} links need a {HINT[kind]} there.",
                    id="b2_access.E012",
                )
            )
        elif storage.access.tier != kind:
            messages.append(
                Error(
                    f"B2_ACCESS['legacy'][{kind!r}] names STORAGES[{alias!r}], a storage of the "
                    f"{storage.access.tier!r} tier: old /{LEGACY_ROUTES[kind]} links would let "
                    f"whoever the {kind!r} tier allows open its files.",
                    hint=f"Name a {HINT[kind]} (tier {kind!r}) for {kind!r}.",
                    id="b2_access.E013",
                )
            )
        else:
            legacy[kind] = storage
    return messages + _check_isolation(legacy)


def _build(alias: str) -> SignedB2Storage | str:
    """Return the signed storage ``STORAGES[alias]``, or what is wrong with it."""
    try:
        storage = storages[alias]
    except Exception as exc:  # E005 or Django says more; an old link needs a storage
        return f"fails to build ({exc})"
    if not isinstance(storage, SignedB2Storage):
        return f"is a {type(storage).__name__}, not a signed B2 storage"
    return storage


def _check_isolation(legacy: dict[str, SignedB2Storage]) -> list[CheckMessage]:
    """An old link opens any name in its storage's area: no other B2 storage's files may lie
    there (signed storages of another tier are b2_access.E010's to report)."""
    messages: list[CheckMessage] = []
    for group in by_bucket():
        for kind, storage in legacy.items():
            if not any(member is storage or member == storage for _label, member in group):
                continue
            for label, other in group:
                if isinstance(other, SignedB2Storage) or not area(other).startswith(area(storage)):
                    continue
                messages.append(
                    Error(
                        f"Old /{LEGACY_ROUTES[kind]} links open any name of "
                        f"{describe('the legacy ' + repr(kind) + ' storage', storage)}, which "
                        f"holds the files of {describe(label, other)}.",
                        hint="Give the legacy storage a location or a bucket of its own.",
                        id="b2_access.E014",
                    )
                )
    return messages


def _check_routes(conf: AccessSettings) -> list[CheckMessage]:
    routed = {kind: _routed(f"/{route}x") for kind, route in LEGACY_ROUTES.items()}
    if conf.legacy and not any(routed.values()):
        return [
            Warning(
                "B2_ACCESS['legacy'] is set but the old /b2/, /b2l/ and /b2s/ links are not "
                "routed: they answer 404.",
                hint='Add path("", include("b2_access.legacy.urls")) to the root URLconf.',
                id="b2_access.W015",
            )
        ]
    if not conf.legacy and any(routed.values()):
        return [
            Warning(
                "b2_access.legacy.urls is included but B2_ACCESS['legacy'] is not set: every old "
                "link answers 404 (or 403 under B2_ACCESS['url_prefix']).",
                hint="Name the storages of the old links in B2_ACCESS['legacy'].",
                id="b2_access.W016",
            )
        ]
    return []


def _routed(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return getattr(match.func, "__module__", "") == LEGACY_VIEWS
