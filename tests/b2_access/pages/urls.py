"""A URLconf with a project ``handler403`` that queries the database, for the refusal tests."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from tests.urls import urlpatterns

__all__ = ["handler403", "urlpatterns"]


def project_403(request: HttpRequest, exception: PermissionDenied) -> HttpResponse:
    users = User.objects.count()  # a query: under ASGI this must run in a worker thread
    return HttpResponse(f"project 403 ({users} users): {exception}", status=403)


handler403 = project_403
