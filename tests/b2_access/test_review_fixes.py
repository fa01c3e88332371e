"""Robustness: thread-safe token cache, shared cache outages, scopes, url() without I/O."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client, override_settings

from b2_access import PublicStorage, SignedB2Storage
from b2_access.authorize import DownloadAuthorizer
from b2_access.conf import parse_access_settings
from b2_access.signing import Grant
from b2_storage.emulator import LocalB2

from .conftest import MakeStorage, put

pytestmark = pytest.mark.django_db


def test_a_small_token_cache_under_many_threads_never_fails(storage: SignedB2Storage) -> None:
    names = [put(storage, f"many/{i}.txt", b"x") for i in range(24)]
    authorizer = DownloadAuthorizer(parse_access_settings({"local_cache_size": 4, "cache": None}))
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        try:
            for _round in range(6):
                for name in names[offset:] + names[:offset]:
                    authorizer.url(storage, Grant(storage.fingerprint, name, "logged_in", 60))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i * 3,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_shared_cache_that_is_down_still_redirects(storage: SignedB2Storage, user: Any) -> None:
    put(storage, "down/a.txt", b"down but fine")
    caches = {
        "default": {"BACKEND": "tests.broken_cache.DownCache"},
        "b2": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "b2"},
    }
    with override_settings(CACHES=caches, SESSION_ENGINE="django.contrib.sessions.backends.db"):
        client = Client()
        client.force_login(user)
        response = client.get(storage.url("down/a.txt"))
    assert response.status_code == 302
    assert requests.get(response["Location"], timeout=10).content == b"down but fine"


def test_bucket_scope_stays_inside_the_storage_location(
    make_storage: MakeStorage, user: Any, b2_server: LocalB2
) -> None:
    public = make_storage(location="public", scope="bucket")
    private = make_storage(location="private")
    put(public, "a.txt", b"public")
    put(private, "secret.txt", b"secret")
    client = Client()
    client.force_login(user)
    location = client.get(public.url("a.txt"))["Location"]
    token = parse_qs(urlsplit(location).query)["Authorization"][0]
    other = location.split("/file/")[0] + f"/file/{private.config.bucket}/private/secret.txt"
    assert requests.get(other, params={"Authorization": token}, timeout=10).status_code == 401
    assert requests.get(location, timeout=10).content == b"public"


def test_public_url_makes_no_b2_call_and_goes_direct_once_known(
    b2_server: LocalB2, make_storage: MakeStorage
) -> None:
    bucket = f"pub-{threading.get_ident() % 10**8:08d}-x"
    b2_server.create_bucket(bucket, "allPublic")
    fresh = PublicStorage(**b2_server.storage_options(bucket))
    b2_server.reset_calls()
    assert fresh.url("avatar.png").startswith("/b2/")  # not known yet: a signed link
    assert dict(b2_server.calls) == {}
    put(fresh, "avatar.png", b"png")  # any B2 operation tells us the bucket's type
    assert fresh.url("avatar.png").startswith(b2_server.realm)


@pytest.mark.parametrize("expires", [0, -5, 604801])
def test_signed_url_refuses_lifetimes_b2_would_not_honour(
    storage: SignedB2Storage, expires: int
) -> None:
    with pytest.raises(ValueError, match="expires"):
        storage.signed_url("x.txt", expires=expires)
