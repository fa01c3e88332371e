"""ASGI entry point of the example site (``uvicorn example.site.asgi:application``)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.site.settings")
application = get_asgi_application()
