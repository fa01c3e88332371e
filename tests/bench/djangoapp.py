"""The Django project the benchmarks measure: settings made in code, and a direct WSGI
caller (no test client between us and Django). Its URLs are in :mod:`tests.bench.urls`.

Every process of a benchmark (this one, the Redis workers, the uvicorn workers, the memory
probes) configures Django through :func:`setup`, so they agree on the signing key and storages.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from importlib.util import find_spec
from typing import Any

SECRET_KEY = "bench-secret-key-long-enough-for-itsdangerous-0123456789abcdef"
SALT = "b2_access.download"
HAS_SEED = find_spec("django_backblaze_b2") is not None
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "b2_access.middleware.B2AccessMiddleware",
]


def settings_dict(
    *,
    database: str = ":memory:",
    redis: str | None = None,
    seed: dict[str, Any] | None = None,
    storages: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the benchmark project's settings.

    ``redis``: the URL of a Redis server that then holds the shared B2 token cache (db 0) and
    the B2 account cache (db 1); otherwise both are per-process memory caches.
    ``seed``: django-backblaze-b2's ``BACKBLAZE_CONFIG``.
    """

    def cache(db: int, location: str) -> dict[str, str]:
        if redis is None:
            return {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": location,
            }
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{redis}/{db}",
        }

    apps = [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "b2_access",
    ]
    if HAS_SEED:
        apps.append("django_backblaze_b2")
    return {
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": False,
        "USE_TZ": True,
        "ALLOWED_HOSTS": ["*"],
        "INSTALLED_APPS": apps,
        "MIDDLEWARE": MIDDLEWARE,
        "ROOT_URLCONF": "tests.bench.urls",
        "LOGIN_URL": "/login/",
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": database,
                "CONN_MAX_AGE": 600,
            }
        },
        "CACHES": {
            "default": cache(0, "default"),
            "b2": cache(1, "b2"),
            "django-backblaze-b2": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "seed",
            },
        },
        "B2_ACCESS": {"expires": 3600},
        "BACKBLAZE_CONFIG": seed or {"application_key_id": "-", "application_key": "-"},
        "STORAGES": storages
        or {
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        },
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LOGGING_CONFIG": None,
    }


def setup(**options: Any) -> None:
    """Configure Django with :func:`settings_dict` and set it up (once per process)."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(**settings_dict(**options))
        django.setup()


def seed_config(realm: str, key_id: str, key: str, bucket: str) -> dict[str, Any]:
    """Return a ``BACKBLAZE_CONFIG`` for django-backblaze-b2 on a local B2 server (its default
    options otherwise: authorize and validate on init, account info in a Django cache)."""
    return {"realm": realm, "application_key_id": key_id, "application_key": key, "bucket": bucket}


def point_seed_at(realm: str, key_id: str, key: str, bucket: str) -> None:
    """Point django-backblaze-b2 at a (different) local B2 server, forgetting what it cached."""
    from django.conf import settings
    from django.core.cache import caches

    settings.BACKBLAZE_CONFIG = seed_config(realm, key_id, key, bucket)
    caches["django-backblaze-b2"].clear()


# -- calling Django ------------------------------------------------------------------------
class Wsgi:
    """Call Django's WSGI handler directly, as a WSGI server would (keep the body or drop it)."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path: str, cookie: str = "") -> tuple[int, dict[str, str], int]:
        """GET ``path``; return the status, the headers and the body's length (consumed)."""
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "bench",
            "HTTP_COOKIE": cookie,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: Iterable[tuple[str, str]], *_: Any) -> None:
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(headers)

        body = self.handler(environ, start_response)
        length = 0
        try:
            for chunk in body:
                length += len(chunk)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return answer["status"], answer["headers"], length


def migrate() -> None:
    """Create the tables (auth, sessions) in the configured database."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def login_cookies(count: int, prefix: str = "user") -> list[str]:
    """Create ``count`` users (or reuse them) and return a session cookie for each."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    cookies = []
    model = get_user_model()
    for index in range(count):
        user, _ = model.objects.get_or_create(username=f"{prefix}{index}")
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return cookies
