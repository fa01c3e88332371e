"""Views of the example: a page per kind of file (list + upload form), sign-up, the owner-only
download through ``redirect_to_file``, and a video page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from b2_access import redirect_to_file, require_tier, tiers

from .kinds import KINDS, Kind
from .models import PrivateFile, Video


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "files/home.html", {"kinds": KINDS.values()})


def signup(request: HttpRequest) -> HttpResponse:
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


def _form_class(kind: Kind) -> type[forms.ModelForm[Any]]:
    return forms.modelform_factory(kind.model, fields=["title", "file"])


def kind_page(request: HttpRequest, kind: str) -> HttpResponse:
    found = KINDS.get(kind)
    if found is None:
        raise Http404("No such kind of file.")
    # Show each user only what their tier lets them open, and an upload form only to them.
    allowed = tiers[found.tier].allows(request)
    may_upload = allowed and request.user.is_authenticated
    form = _form_class(found)(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied("Your account may not upload files here.")
        if form.is_valid():
            upload = form.save(commit=False)
            upload.owner = request.user
            upload.save()
            return redirect("kind", kind=kind)
    items = found.model.objects.all() if allowed else found.model.objects.none()
    if found.slug == "private":  # only one's own files, and only when logged in
        user = request.user
        items = items.filter(owner=user) if user.is_authenticated else items.none()
    anonymous = not request.user.is_authenticated
    hidden = (
        "login"
        if anonymous and (not allowed or found.slug == "private")
        else ("tier" if not allowed else None)
    )
    context = {
        "kind": found,
        "items": items,
        "form": form,
        "hidden": hidden,
        "may_upload": may_upload,
    }
    return render(request, "files/kind.html", context)


@login_required
@redirect_to_file
def private_download(request: HttpRequest, pk: int) -> Any:
    """An object-level rule: only the owner gets the 302 to B2. A refusal is raised, not
    returned, so the site's ``handler403`` renders it with its ``403.html``."""
    item = get_object_or_404(PrivateFile, pk=pk)
    if item.owner_id != request.user.pk:
        raise PermissionDenied("This file belongs to someone else.")
    return item.file


@require_tier("logged_in")
def video_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "files/video.html", {"video": get_object_or_404(Video, pk=pk)})
