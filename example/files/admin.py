"""The admin shows working (signed) file links for every kind of file."""

from __future__ import annotations

from django.contrib import admin

from .models import Avatar, Document, PrivateFile, Report, SubscriberFile, Video

for model in (Avatar, Document, Report, SubscriberFile, PrivateFile, Video):
    admin.site.register(model, list_display=("title", "file", "owner", "uploaded_at"))
