"""django-backblaze-b2's URL patterns, answered by b2_access: in the root URLconf, swap
``path("", include("django_backblaze_b2.urls"))`` for
``path("", include("b2_access.legacy.urls"))``.

The namespace and the names are the old ones, so ``reverse("django_b2_storage:b2-public",
args=[name])`` keeps working too.
"""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "django_b2_storage"
urlpatterns = [
    path("b2/<path:filename>", views.public_file, name="b2-public"),
    path("b2l/<path:filename>", views.logged_in_file, name="b2-logged-in"),
    path("b2s/<path:filename>", views.staff_file, name="b2-staff"),
]
