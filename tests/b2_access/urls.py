"""URLs of the decorator tests: the stand-in login page, and the views in .views."""

from __future__ import annotations

from django.urls import path

from tests.urls import login

from . import views

urlpatterns = [
    path("accounts/login/", login, name="login"),
    path("staff/sync/", views.staff_sync),
    path("staff/async/", views.staff_async),
    path("own/<str:owner>/<path:name>", views.own_file),
    path("own-async/<str:owner>/<path:name>", views.own_file_async),
    path("report/<str:owner>/<path:name>", views.report),
    path("document/<int:pk>/", views.document),
    path("wrong/<str:kind>/", views.wrong_return),
]
