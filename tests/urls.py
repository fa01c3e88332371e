"""URLs of the test project: a stand-in login page (tests only check where it redirects)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def login(request: HttpRequest) -> HttpResponse:
    return HttpResponse("login page")


urlpatterns = [path("accounts/login/", login, name="login")]
