"""URLs of the example's files app."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("files/<slug:kind>/", views.kind_page, name="kind"),
    path("private/<int:pk>/download/", views.private_download, name="private-download"),
    path("videos/<int:pk>/", views.video_page, name="video"),
]
