"""``B2AccessMiddleware``: answers signed links under ``B2_ACCESS["url_prefix"]``, sync or async.

Place it after ``AuthenticationMiddleware``. Requests outside the prefix cost one string
comparison; both modes call the same resolver methods, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

from .resolver import DownloadResolver

GetResponse = Callable[[HttpRequest], Any]


class B2AccessMiddleware:
    """Turn signed download links into 302 redirects to B2 (or the refusal they deserve)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse, resolver: DownloadResolver | None = None) -> None:
        self.get_response = get_response
        self.resolver = resolver or DownloadResolver.from_settings()
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return self.__acall__(request)
        if not self.resolver.matches(request.path_info):
            return self.get_response(request)
        return self.resolver.respond(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not self.resolver.matches(request.path_info):
            response: Awaitable[HttpResponseBase] = self.get_response(request)
            return await response
        return await sync_to_async(self.resolver.respond)(request)
