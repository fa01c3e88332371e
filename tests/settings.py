"""Django settings for the test suite (the storages point at a local B2 server per test)."""

from __future__ import annotations

SECRET_KEY = "tests-only-secret-key-that-is-long-enough-for-itsdangerous-0123456789"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "b2_storage",
    "b2_access",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "b2_access.middleware.B2AccessMiddleware",
]
ROOT_URLCONF = "tests.urls"
LOGIN_URL = "/accounts/login/"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "b2": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "b2"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test users
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
