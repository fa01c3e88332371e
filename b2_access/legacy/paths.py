"""Which ``/b2/...`` paths are signed links, and which are django-backblaze-b2's old links.

Both live under ``/b2/`` when ``B2_ACCESS["url_prefix"]`` is its default. A signed link is
``<prefix><payload>.<timestamp>.<signature>/<name>``, each part of its token URL-safe base64. A
path of that shape stays the middleware's, so a tampered signed link is refused (403) and never
opened as an old public link; anything else under the prefix goes on to URL routing, where
``b2_access.legacy.urls`` answers it. An old link whose first folder has that shape (three runs
of letters, digits, ``-`` and ``_`` joined by two dots, e.g. ``v1.2.3/``) cannot be told apart
from a signed link and is refused.
"""

from __future__ import annotations

from ..signing import TOKEN_PART


def looks_signed(rest: str) -> bool:
    """Return whether ``rest`` (a path after the prefix) has the shape of a signed link."""
    token, slash, _name = rest.partition("/")
    if not slash:
        return False
    parts = token.split(".")
    return len(parts) == 3 and all(TOKEN_PART.match(part) for part in parts)


def passes_to_legacy(path: str, prefix: str, legacy: object) -> bool:
    """Return whether the middleware leaves ``path`` (under ``prefix``) to URL routing: only
    when old links are configured (``legacy``) and it is not shaped like a signed link."""
    return bool(legacy) and not looks_signed(path[len(prefix) :])
