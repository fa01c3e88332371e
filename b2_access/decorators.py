"""View decorators: ``require_tier`` (a tier check on any view) and ``redirect_to_file`` (a view
that picks a file after its own checks and answers with the same 302 to B2 as the middleware).

A sync view stays sync and an async view stays async; both share the resolver's decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse

from .resolver import shared_resolver
from .signing import Delivery
from .storages import SignedB2Storage

ViewFunc = Callable[..., Any]


def require_tier(name: str) -> Callable[[ViewFunc], ViewFunc]:
    """Let the view run only for requests the tier ``name`` allows (login redirect for an
    anonymous user, 403 otherwise)."""

    def decorator(view_func: ViewFunc) -> ViewFunc:
        wrapper: ViewFunc
        if iscoroutinefunction(view_func):

            async def _async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                resolver = shared_resolver()
                refusal = await sync_to_async(resolver.check_access)(request, name)
                if refusal is not None:
                    return refusal
                return await view_func(request, *args, **kwargs)

            wrapper = _async_wrapper
        else:

            def _sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refusal = shared_resolver().check_access(request, name)
                if refusal is not None:
                    return refusal
                return view_func(request, *args, **kwargs)

            wrapper = _sync_wrapper
        return wraps(view_func)(wrapper)

    return decorator


def _target(result: Any) -> tuple[SignedB2Storage, str, dict[str, Any]]:
    """Read what a ``redirect_to_file`` view returned: a FieldFile, or (storage, name[, opts])."""
    options: dict[str, Any] = {}
    if isinstance(result, FieldFile):
        if not result:
            raise Http404("No file.")
        storage, name = result.storage, result.name
    elif isinstance(result, tuple) and len(result) in (2, 3):
        storage, name = result[0], result[1]
        options = dict(result[2]) if len(result) == 3 else {}
    else:
        raise TypeError(
            "A redirect_to_file view returns a FieldFile or (storage, name[, options]), "
            f"not {type(result).__name__}."
        )
    if not isinstance(storage, SignedB2Storage):
        kind = type(storage).__name__ if isinstance(storage, Storage) else repr(storage)
        raise TypeError(f"redirect_to_file needs a SignedB2Storage, not {kind}.")
    unknown = set(options) - {"attachment", "filename", "cache_control"}
    if unknown:
        raise TypeError(f"Unknown redirect_to_file options: {', '.join(sorted(unknown))}.")
    try:
        storage.b2_name(str(name))
    except (ValueError, SuspiciousFileOperation):
        raise Http404("No such file.") from None
    return storage, str(name), options


def _respond(request: HttpRequest, result: Any) -> HttpResponse:
    if isinstance(result, HttpResponse):
        return result  # the view refused (403, 404, a redirect) on its own terms
    storage, name, options = _target(result)
    resolver = shared_resolver()
    delivery = Delivery(
        name,
        bool(options.get("attachment", storage.access.attachment)),
        options.get("filename"),
        options.get("cache_control"),
    )
    # The view decided for this one file: its token covers the file, never the storage's scope.
    return resolver.redirect(request, storage, delivery, file_only=True)


def redirect_to_file(view_func: ViewFunc) -> ViewFunc:
    """Turn a view that returns a file (after its own checks) into the 302 to B2.

    The view returns a ``FieldFile``, or ``(storage, name)``, or ``(storage, name, options)``
    with ``attachment``/``filename``/``cache_control``. To refuse, raise ``PermissionDenied``
    (the project's ``handler403`` renders it); any ``HttpResponse`` it returns is passed on.
    """
    wrapper: ViewFunc
    if iscoroutinefunction(view_func):

        async def _async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            result = await view_func(request, *args, **kwargs)
            return await sync_to_async(_respond)(request, result)

        wrapper = _async_wrapper
    else:

        def _sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return _respond(request, view_func(request, *args, **kwargs))

        wrapper = _sync_wrapper
    return wraps(view_func)(wrapper)
