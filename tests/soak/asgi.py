"""The ASGI application that ``uvicorn --workers 4`` serves in the soak test."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.soak.settings")

from django.core.asgi import get_asgi_application  # noqa: E402 (needs the settings module)

application = get_asgi_application()
