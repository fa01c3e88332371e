"""URL configuration of the site: the login pages and django-backblaze-b2's download URLs."""

from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("django_backblaze_b2.urls")),
]
