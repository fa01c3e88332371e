"""The example's files app."""

from __future__ import annotations

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "example.files"
    label = "files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tiers  # noqa: F401  (registers the "subscribers" tier)
