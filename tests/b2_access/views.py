"""Views of the decorator tests (tests.b2_access.urls): tier-checked views, and views that pick a
file after their own object-level check."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import storages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from b2_access import redirect_to_file, require_tier
from tests.testapp.models import Document


@require_tier("staff")
def staff_sync(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"sync for {request.user.get_username()}")


@require_tier("staff")
async def staff_async(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(f"async for {user.get_username()}")


def _not_yours() -> HttpResponse:
    return HttpResponseForbidden("Only the owner may download this.")


@redirect_to_file
def own_file(request: HttpRequest, owner: str, name: str) -> Any:
    """Only the user named in the URL may download files under their own folder."""
    if request.user.get_username() != owner:
        return _not_yours()
    return storages["downloads"], f"{owner}/{name}"


@redirect_to_file
async def own_file_async(request: HttpRequest, owner: str, name: str) -> Any:
    user = await request.auser()
    if user.get_username() != owner:
        return _not_yours()
    return storages["downloads"], f"{owner}/{name}"


@redirect_to_file
def report(request: HttpRequest, owner: str, name: str) -> Any:
    if request.user.get_username() != owner:
        return _not_yours()
    options = {"attachment": True, "filename": "report.pdf"}
    return storages["downloads"], f"{owner}/{name}", options


@redirect_to_file
def document(request: HttpRequest, pk: int) -> Any:
    """A model's FieldFile: the document's title names its owner."""
    doc = Document.objects.get(pk=pk)
    if request.user.get_username() != doc.title:
        return _not_yours()
    return doc.attachment


@redirect_to_file
def wrong_return(request: HttpRequest, kind: str) -> Any:
    if kind == "text":
        return "not a file"
    return storages["plain"], "a.txt"  # a B2Storage without signing
