"""``B2AccessMiddleware``: answers signed links under ``B2_ACCESS["url_prefix"]``, sync or async.

Place it after ``AuthenticationMiddleware``. Requests outside the prefix cost one string
comparison; both modes call the same resolver methods, so they cannot drift apart. With
``B2_ACCESS["legacy"]`` set, a path under the prefix that is not shaped like a signed link goes on
to URL routing, where ``b2_access.legacy.urls`` answers django-backblaze-b2's old links.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from .legacy.paths import passes_to_legacy
from .resolver import DownloadResolver, shared_resolver

GetResponse = Callable[[HttpRequest], Any]


class B2AccessMiddleware:
    """Turn signed download links into 302 redirects to B2 (or the refusal they deserve)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse, resolver: DownloadResolver | None = None) -> None:
        self.get_response = get_response
        self._resolver = resolver  # None: the shared one, which follows settings changes
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    @property
    def resolver(self) -> DownloadResolver:
        """Return the resolver: the one given, else the process's shared one."""
        return self._resolver or shared_resolver()

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return self.__acall__(request)
        resolver = self.resolver
        if not _answers(resolver, request.path_info):
            return self.get_response(request)
        return resolver.respond(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        resolver = self.resolver
        if not _answers(resolver, request.path_info):
            response: Awaitable[HttpResponseBase] = self.get_response(request)
            return await response
        return await resolver.arespond(request)


def _answers(resolver: DownloadResolver, path: str) -> bool:
    """Return whether the middleware answers ``path`` itself (a signed link under the prefix)."""
    if not resolver.matches(path):
        return False
    return not passes_to_legacy(path, resolver.prefix, resolver.conf.legacy)
