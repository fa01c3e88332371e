"""The benchmark project's URLs: an empty view (sync and async) and django-backblaze-b2's
proxy routes (``/b2l/`` and ``/b2s/``; our middleware answers ``/b2/`` before routing)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from .djangoapp import HAS_SEED


def empty(request: HttpRequest) -> HttpResponse:
    """An empty view: what any request through the middleware stack costs at least."""
    return HttpResponse(b"")


def empty_user(request: HttpRequest) -> HttpResponse:
    """An empty view that checks the user, as ``@login_required`` does (session and user
    loaded): the same work any access check needs."""
    return HttpResponse(b"" if request.user.is_authenticated else b"anonymous")


async def empty_async(request: HttpRequest) -> HttpResponse:
    """The same, as an async view (no thread hop under ASGI)."""
    return HttpResponse(b"")


urlpatterns: list[URLPattern | URLResolver] = [
    path("empty/", empty),
    path("empty-user/", empty_user),
    path("empty-async/", empty_async),
]
if HAS_SEED:
    urlpatterns.append(path("", include("django_backblaze_b2.urls")))
