"""Settings of the soak site, shared by the uvicorn workers and the storage process.

``SOAK_SITE`` (JSON) says where the services are: ``realm``, ``key_id``, ``key`` and ``bucket``
of the local B2 server, ``redis`` (the URL of the Redis server that holds the B2 download tokens,
db 0, and the B2 account, db 1) and ``database`` (the SQLite file of users and sessions).
"""

from __future__ import annotations

import json
import os

_site = json.loads(os.environ["SOAK_SITE"])

SECRET_KEY = "soak-only-secret-key-long-enough-for-itsdangerous-0123456789abcdef"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "b2_storage",
    "b2_access",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "b2_access.middleware.B2AccessMiddleware",
]
ROOT_URLCONF = "tests.soak.urls"
LOGIN_URL = "/login/"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _site["database"]}}
# SOAK_CACHE_BACKEND (in the test's environment) swaps the Redis backend, to compare another.
_backend = _site.get("cache_backend") or "django.core.cache.backends.redis.RedisCache"
CACHES = {
    "default": {
        "BACKEND": _backend,
        "LOCATION": f"{_site['redis']}/0",
    },
    "b2": {
        "BACKEND": _backend,
        "LOCATION": f"{_site['redis']}/1",
    },
}
B2_STORAGE = {
    "realm": _site["realm"],
    "application_key_id": _site["key_id"],
    "application_key": _site["key"],
    "bucket": _site["bucket"],
}
# Links made for the run stay valid for all of it; B2 tokens keep the defaults (900 s, handed
# out for the first 300 s), which the test's bound on b2_get_download_authorization reads.
B2_ACCESS = {"expires": int(_site.get("link_seconds", 300))}
# Three tiers on prefix-disjoint locations of one private bucket; staff links share one
# bucket-scope token (its region is "staff/"), the others get a token per file.
STORAGES = {
    "default": {"BACKEND": "b2_access.LoggedInStorage", "OPTIONS": {"location": "members"}},
    "public": {"BACKEND": "b2_access.PublicStorage", "OPTIONS": {"location": "pub"}},
    "staff": {
        "BACKEND": "b2_access.StaffStorage",
        "OPTIONS": {"location": "staff", "scope": "bucket"},
    },
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
