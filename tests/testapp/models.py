"""Models with file fields on ``default_storage``, which the tests point at B2 via STORAGES.

A field's ``storage=`` callable is called once, when the model class is created, so it cannot
follow ``override_settings(STORAGES=...)``; ``default_storage`` does (Django resets it on the
``setting_changed`` signal).
"""

from __future__ import annotations

from django.db import models


class Document(models.Model):
    title = models.CharField(max_length=100, blank=True)
    attachment = models.FileField(upload_to="docs/", blank=True)
    picture = models.ImageField(upload_to="images/%Y/", blank=True)

    class Meta:
        app_label = "testapp"

    def __str__(self) -> str:
        return self.title or f"Document {self.pk}"
