"""The ASGI app that ``uvicorn --workers 2`` serves in the redirect benchmark (6).

``BENCH_ASGI`` (JSON) holds the storage options of the signed storage (public tier, so the load
generator needs no session); the URLs are tests.bench.urls (``/empty/``, ``/empty-async/``)
and the middleware answers ``/b2/...``.
"""

from __future__ import annotations

import json
import os

from .djangoapp import setup

_options = json.loads(os.environ["BENCH_ASGI"])
setup(storages={"default": {"BACKEND": "b2_access.PublicStorage", "OPTIONS": _options}})

from django.core.asgi import get_asgi_application  # noqa: E402 (needs the settings)

application = get_asgi_application()
