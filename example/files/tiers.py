"""A custom access tier: members of the "subscribers" group (and staff)."""

from __future__ import annotations

from django.http import HttpRequest

import b2_access


@b2_access.tier("subscribers")
def subscribers(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(user.is_staff or user.groups.filter(name="subscribers").exists())
