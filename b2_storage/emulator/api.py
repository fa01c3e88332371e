"""B2's native JSON API (``/b2api/v1`` to ``/b2api/v4``): the endpoint names and their handlers.

Handlers live by subject in ``api_*.py``; each takes a :class:`.calls.Call` and returns the JSON
body of a 200. The upload, part upload, download and authorize endpoints carry bytes or
credentials in headers, so :mod:`.server` handles those itself. An endpoint B2 has that this
server refuses, or a name it does not know, is answered 501 ``not_implemented``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import api_buckets, api_copy, api_files, api_keys, api_large
from .calls import Call
from .errors import B2Error, not_implemented
from .refusals import ENDPOINTS

HANDLERS: dict[str, Callable[[Call], dict[str, Any]]] = {
    **api_buckets.HANDLERS,
    **api_files.HANDLERS,
    **api_large.HANDLERS,
    **api_keys.HANDLERS,
    **api_copy.HANDLERS,
}
# Endpoints :mod:`.server` answers itself (bytes or credentials in headers).
SERVED = ("b2_authorize_account", "b2_upload_file", "b2_upload_part", "b2_download_file_by_id")
# Every name the call counters know; anything else is counted as UNKNOWN.
KNOWN = frozenset({*HANDLERS, *SERVED, *ENDPOINTS})
UNKNOWN = "unknown"


def refused_endpoint(name: str) -> B2Error:
    """Return the 501 for an endpoint this server does not implement (or does not know)."""
    feature = ENDPOINTS.get(name)
    if feature is not None:
        return not_implemented(f"{feature} ({name})")
    return not_implemented(f"the endpoint {name[:100]!r}")
