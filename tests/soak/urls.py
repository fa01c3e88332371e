"""The soak site has no views: the middleware answers ``/b2/...`` before URL routing."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
