"""Template tags: ``{% load b2_access %}{% signed_url doc.file attachment=True %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models.fields.files import FieldFile

from ..storages import SignedB2Storage

register = template.Library()


@register.simple_tag(takes_context=True)
def signed_url(
    context: template.Context,
    file: FieldFile,
    *,
    attachment: bool | None = None,
    filename: str | None = None,
    bind_user: bool = False,
    cache_control: str | None = None,
) -> str:
    """Return a signed link to ``file`` with per-link options.

    ``bind_user=True`` binds the link to the request's user, so a forwarded link does not work
    for anyone else. A file on a storage that is not signed gets its plain ``url``.
    """
    if not file:
        return ""
    storage: Any = file.storage
    if not isinstance(storage, SignedB2Storage):
        return str(file.url)
    request = context.get("request")
    user = getattr(request, "user", None) if bind_user else None
    return storage.signed_url(
        str(file.name),
        user=user,
        attachment=attachment,
        filename=filename,
        cache_control=cache_control,
    )
