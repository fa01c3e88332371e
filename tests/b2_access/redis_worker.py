"""A separate process for test_redis: configure Django from the environment, answer one signed
link with the resolver, print the verdict as JSON.

Environment: B2_OPTIONS (JSON storage options), REDIS_URL, SECRET_KEY. Argument: the link.
"""

from __future__ import annotations

import json
import os
import sys


def main(link: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY=os.environ["SECRET_KEY"],
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "b2_access"],
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": os.environ["REDIS_URL"],
            },
            "b2": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        },
        B2_ACCESS={"cache": "default"},
        STORAGES={
            "default": {
                "BACKEND": "b2_access.PublicStorage",
                "OPTIONS": json.loads(os.environ["B2_OPTIONS"]),
            },
            "staticfiles": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        },
        USE_TZ=True,
    )
    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from b2_access.resolver import DownloadResolver

    request = RequestFactory().get(link)
    request.user = AnonymousUser()
    response = DownloadResolver.from_settings().respond(request)
    print(json.dumps({"status": response.status_code, "location": response.get("Location")}))


if __name__ == "__main__":
    main(sys.argv[1])
