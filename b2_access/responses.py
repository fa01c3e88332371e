"""The responses of the download path: the project's own 403/404 page, the 503 and the 302 to
B2, each uncacheable and kept out of Django's request log (the path holds a signed link)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import TemplateDoesNotExist, loader
from django.template.response import TemplateResponse
from django.urls import get_resolver, get_urlconf
from django.utils.html import escape
from django.views.defaults import page_not_found, permission_denied

# Per status: the exception a handler gets, Django's default handler, its template, our title.
ERROR_PAGES: dict[int, tuple[type[Exception], Callable[..., Any], str, str]] = {
    403: (PermissionDenied, permission_denied, "403.html", "Access denied"),
    404: (Http404, page_not_found, "404.html", "Not found"),
}


def error_page(request: HttpRequest, status: int, reason: str, detail: str) -> HttpResponse:
    """Return the project's own 403 or 404 page (its ``handler403``/``handler404``, so its
    ``403.html``/``404.html`` applies) for ``detail``, uncacheable and labelled ``reason``."""
    exception, default, template, title = ERROR_PAGES[status]
    handler: Callable[..., Any] = get_resolver(get_urlconf()).resolve_error_handler(status)
    response: HttpResponse
    if handler is default and not _has_template(template):
        # Django's bare default page drops the reason: say it in a page of our own.
        body = (
            f"<!doctype html><meta charset='utf-8'><title>{title}</title>"
            f"<h1>{title}</h1><p>{escape(detail)}</p>"
        )
        response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    else:
        response = handler(request, exception=exception(detail))
        if isinstance(response, TemplateResponse):
            response.render()
    response["Cache-Control"] = "private, no-store"
    response["X-B2-Access"] = reason
    return quiet(response)


def _has_template(name: str) -> bool:
    try:
        loader.get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def quiet(response: HttpResponse) -> HttpResponse:
    """Keep Django from logging the request path of ``response``: it holds a signed link,
    which must not reach logs (we log the verdict ourselves, without the link)."""
    response._has_been_logged = True  # type: ignore[attr-defined]  # read by log_response
    return response


def unavailable(retry_after: int) -> HttpResponse:
    """Return a 503 with ``Retry-After``: B2 could not be reached."""
    response = HttpResponse(
        "The file store is unavailable right now; try again shortly.",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return quiet(response)


def redirect_to_b2(url: str) -> HttpResponse:
    """Return the 302 to B2, uncacheable and without a referrer."""
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
