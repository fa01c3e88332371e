"""Settings of the example site.

The B2 credentials come from the environment. ``python -m example.serve`` starts the local B2
server and sets them; to use real B2, set ``EXAMPLE_B2_REALM=production``,
``EXAMPLE_B2_KEY_ID`` and ``EXAMPLE_B2_KEY`` (and bucket names) and run ``manage.py runserver``.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
VAR_DIR = Path(os.environ.get("EXAMPLE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY", "example-only-not-secret-0123456789abcdefghijkl")
DEBUG = os.environ.get("EXAMPLE_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "b2_storage",  # manage.py b2doctor and the credential checks
    "b2_access",
    "example.files",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "b2_access.middleware.B2AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "example.site.urls"
WSGI_APPLICATION = "example.site.wsgi.application"
ASGI_APPLICATION = "example.site.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "b2": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "b2"},
}
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
USE_TZ = True
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- B2: the one place that says where the files live -------------------------------------
PUBLIC_BUCKET = os.environ.get("EXAMPLE_PUBLIC_BUCKET", "example-public")
PRIVATE_BUCKET = os.environ.get("EXAMPLE_PRIVATE_BUCKET", "example-private")
B2_STORAGE = {
    "realm": os.environ.get("EXAMPLE_B2_REALM", "http://127.0.0.1:8900"),
    "application_key_id": os.environ.get("EXAMPLE_B2_KEY_ID", ""),
    "application_key": os.environ.get("EXAMPLE_B2_KEY", ""),
    "bucket": PRIVATE_BUCKET,
}
B2_ACCESS = {"url_prefix": "/b2/", "expires": int(os.environ.get("EXAMPLE_LINK_EXPIRES", "300"))}


def _signed(backend: str, **options: object) -> dict[str, object]:
    return {"BACKEND": f"b2_access.{backend}", "OPTIONS": options}


STORAGES = {
    "default": _signed("LoggedInStorage", location="uploads"),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "avatars": _signed("PublicStorage", bucket=PUBLIC_BUCKET, location="avatars"),
    "documents": _signed("LoggedInStorage", location="documents"),
    "reports": _signed("StaffStorage", location="reports"),
    "subscribers": _signed("SignedB2Storage", location="subscribers", tier="subscribers"),
    # Owner-only files (served through redirect_to_file): each in its own random folder, so
    # the B2 URL a download hands out opens that one file, whatever the other files are named.
    "private": _signed("LoggedInStorage", location="private", layout="folder-per-file"),
    "videos": _signed("LoggedInStorage", location="videos", scope="videos"),
}
