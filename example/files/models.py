"""One model per kind of file, each on the storage (and so the tier) it belongs to."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models


def avatars() -> Storage:
    return storages["avatars"]


def documents() -> Storage:
    return storages["documents"]


def reports() -> Storage:
    return storages["reports"]


def subscriber_files() -> Storage:
    return storages["subscribers"]


def private_files() -> Storage:
    return storages["private"]


def videos() -> Storage:
    return storages["videos"]


class Upload(models.Model):
    title = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        abstract = True
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.title


class Avatar(Upload):
    """Public tier: shown inline to everyone."""

    file = models.ImageField(storage=avatars, upload_to="%Y/")


class Document(Upload):
    """Logged-in tier."""

    file = models.FileField(storage=documents, upload_to="%Y/")


class Report(Upload):
    """Staff tier."""

    file = models.FileField(storage=reports, upload_to="%Y/")


class SubscriberFile(Upload):
    """The custom "subscribers" tier."""

    file = models.FileField(storage=subscriber_files, upload_to="%Y/")


class PrivateFile(Upload):
    """Only its owner may download it: checked by a view with ``redirect_to_file``."""

    file = models.FileField(storage=private_files, upload_to="%Y/")


class Video(Upload):
    """Logged-in tier, played by a <video> element that seeks with Range requests to B2."""

    file = models.FileField(storage=videos, upload_to="%Y/")
