"""Following a B2 URL that we handed out, as its holder could: as it is, or with another file
name in it (the same ``Authorization`` and query) to see what else its token opens."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import requests


def with_name(url: str, name: str) -> str:
    """Return ``url`` (``…/file/<bucket>/<name>?<query>``) for another B2 name of its bucket."""
    parts = urlsplit(url)
    bucket = parts.path.split("/file/", 1)[1].split("/", 1)[0]
    return f"{parts.scheme}://{parts.netloc}/file/{bucket}/{quote(name)}?{parts.query}"


def b2_get(url: str, name: str | None = None) -> requests.Response:
    """GET a B2 URL, or the same URL for the B2 name ``name``."""
    return requests.get(url if name is None else with_name(url, name), timeout=10)
