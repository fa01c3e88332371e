"""The views behind django-backblaze-b2's old links, answered as signed links are answered.

The tier check and the 302 to a B2 download-authorization URL are the resolver's (the same as for
signed links): the bytes go from B2 to the browser, never through Django. Which storage a kind of
link opens comes from ``B2_ACCESS["legacy"]``; a name is always one of that storage's files.
"""

from __future__ import annotations

import logging

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages
from django.http import HttpRequest, HttpResponse

from ..conf import get_access_settings
from ..resolver import SAFE_METHODS, DownloadResolver, Refusal, shared_resolver
from ..signing import Delivery
from ..storages import SignedB2Storage

logger = logging.getLogger(__name__)


def legacy_storage(kind: str) -> SignedB2Storage | None:
    """Return the storage whose files the old links of ``kind`` open, or ``None`` when there is
    none fit for it (not configured; not a signed storage of that tier: see b2_access.E012)."""
    alias = get_access_settings().legacy.get(kind)
    if alias is None:
        return None
    try:
        storage = storages[alias]
    except Exception:  # a broken alias is E012's to report; the link must not 500
        logger.error("b2_access: STORAGES[%r] (legacy %s links) cannot be built", alias, kind)
        return None
    if not isinstance(storage, SignedB2Storage) or storage.access.tier != kind:
        logger.error("b2_access: STORAGES[%r] is not a signed %s storage", alias, kind)
        return None
    return storage


def serve(request: HttpRequest, kind: str, filename: str) -> HttpResponse:
    """Answer an old link of ``kind`` to ``filename``: login redirect, 403, 404, 405 or 302."""
    resolver = shared_resolver()
    if request.method not in SAFE_METHODS:
        detail = f"{request.method} is not allowed here."
        return resolver.refuse(request, Refusal("method", detail, status=405))
    storage = legacy_storage(kind)
    if storage is None:
        logger.info("b2_access: 404 legacy %s link (no storage for it)", kind)
        return _not_found(resolver, request)
    refusal = resolver.judge(request, kind)
    if refusal is not None:
        return resolver.refuse(request, refusal)
    try:
        storage.b2_name(filename)  # refuses traversal, a leading '/' and names B2 refuses
    except (SuspiciousFileOperation, ValueError):
        logger.info("b2_access: 404 legacy %s link to an invalid name", kind)
        return _not_found(resolver, request)
    return resolver.redirect(request, storage, Delivery(filename, storage.access.attachment))


def _not_found(resolver: DownloadResolver, request: HttpRequest) -> HttpResponse:
    return resolver.refuse(request, Refusal("missing", "This file does not exist.", status=404))


def public_file(request: HttpRequest, filename: str) -> HttpResponse:
    """``/b2/<filename>``: anyone."""
    return serve(request, "public", filename)


def logged_in_file(request: HttpRequest, filename: str) -> HttpResponse:
    """``/b2l/<filename>``: an authenticated, active user (others: login redirect or 403)."""
    return serve(request, "logged_in", filename)


def staff_file(request: HttpRequest, filename: str) -> HttpResponse:
    """``/b2s/<filename>``: an active staff user (others: login redirect or 403)."""
    return serve(request, "staff", filename)
