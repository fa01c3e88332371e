"""The kinds of file of the example: model, tier and words for each page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from .models import Avatar, Document, PrivateFile, Report, SubscriberFile, Video


@dataclass(frozen=True)
class Kind:
    slug: str
    model: type[models.Model]
    tier: str
    title: str
    blurb: str


KINDS = {
    kind.slug: kind
    for kind in (
        Kind("avatars", Avatar, "public", "Avatars", "Public tier: anyone sees them inline."),
        Kind("documents", Document, "logged_in", "Documents", "Logged-in users only."),
        Kind("reports", Report, "staff", "Reports", "Staff only."),
        Kind(
            "subscribers",
            SubscriberFile,
            "subscribers",
            "Subscriber files",
            "A custom tier: members of the subscribers group.",
        ),
        Kind(
            "private",
            PrivateFile,
            "logged_in",
            "Private files",
            "Only the owner: a view checks it, then uses redirect_to_file.",
        ),
        Kind("videos", Video, "logged_in", "Videos", "Logged-in users; played from B2."),
    )
}
