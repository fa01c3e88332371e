"""The B2 download-token cache: warm redirects make no B2 call, cold ones one per (file or scope,
headers), single-flight under a burst, refreshed before too little of a token remains, shared
through the Django cache, and response headers pinned in the token."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.cache import caches
from django.test import Client, override_settings
from freezegun import freeze_time

from b2_access import PublicStorage, SignedB2Storage
from b2_access.authorize import DownloadAuthorizer
from b2_access.conf import get_access_settings, parse_access_settings
from b2_access.resolver import shared_authorizer
from b2_access.signing import Grant
from b2_storage import B2Storage
from b2_storage.emulator import LocalB2
from b2_storage.tokens import TokenRequest

from .conftest import MakeStorage, put

AUTH = "b2_get_download_authorization"


def location(client: Client, link: str) -> str:
    response = client.get(link)
    assert response.status_code == 302, response.content[:300]
    return str(response["Location"])


def b2_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def clients(django_user_model: Any) -> list[Client]:
    """Ten test clients, each logged in as its own user."""
    result = []
    for i in range(10):
        client = Client()
        client.force_login(django_user_model.objects.create_user(f"user{i}"))
        result.append(client)
    return result


def test_warm_redirects_make_no_b2_call(
    clients: list[Client], storage: SignedB2Storage, b2_server: LocalB2
) -> None:
    links = [storage.url(put(storage, f"files/{i:03}.txt", b"f")) for i in range(100)]
    b2_server.reset_calls()
    first = [location(clients[i % 10], link) for i, link in enumerate(links)]
    assert b2_server.calls[AUTH] == 100  # cold, file scope: one call per file
    b2_server.reset_calls()
    for round_ in range(10):
        for i, link in enumerate(links):
            assert location(clients[(i + round_) % 10], link) == first[i]
    assert b2_server.calls[AUTH] == 0
    assert sum(b2_server.calls.values()) == 0  # no other B2 call either


# "files/": one token for every files/* name, and one per file outside that prefix.
@pytest.mark.parametrize(("scope", "expected"), [("bucket", 1), ("files/", 3), ("file", 12)])
def test_cold_calls_per_scope(
    client: Client,
    user: Any,
    make_storage: MakeStorage,
    b2_server: LocalB2,
    scope: str,
    expected: int,
) -> None:
    storage = make_storage(tier="logged_in", scope=scope)
    names = [f"files/{i}.txt" for i in range(10)] + ["other/a.txt", "other/b.txt"]
    links = [storage.url(put(storage, name, b"n")) for name in names]
    client.force_login(user)
    b2_server.reset_calls()
    for link in links * 3:
        location(client, link)
    assert b2_server.calls[AUTH] == expected


def test_a_bucket_scope_token_opens_every_file(
    client: Client, user: Any, make_storage: MakeStorage
) -> None:
    storage = make_storage(tier="logged_in", scope="bucket")
    put(storage, "one.txt", b"1")
    put(storage, "deep/two.txt", b"2")
    client.force_login(user)
    assert requests.get(location(client, storage.url("one.txt")), timeout=10).content == b"1"
    two = location(client, storage.url("deep/two.txt"))
    assert requests.get(two, timeout=10).content == b"2"


@pytest.mark.parametrize("attachment", [False, True], ids=["b2sdk", "raw-endpoint"])
def test_a_burst_of_cold_requests_makes_one_b2_call(
    make_storage: MakeStorage, b2_server: LocalB2, attachment: bool
) -> None:
    storage = make_storage(PublicStorage)
    link = storage.signed_url(put(storage, "hot.txt", b"hot"), attachment=attachment)
    b2_server.reset_calls()
    barrier = threading.Barrier(20)
    results: list[str] = []
    errors: list[BaseException] = []

    def hit() -> None:
        client = Client()  # anonymous on the public tier: no database in these threads
        barrier.wait()
        try:
            results.append(location(client, link))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 20 and len(set(results)) == 1
    assert b2_server.calls[AUTH] == 1
    assert requests.get(results[0], timeout=10).content == b"hot"


@pytest.mark.parametrize("site", ["started-frozen", "already-running"])
def test_tokens_are_refetched_when_too_little_remains(
    settings: Any,
    client: Client,
    user: Any,
    storage: SignedB2Storage,
    b2_server: LocalB2,
    site: str,
) -> None:
    settings.B2_ACCESS = {"token_lifetime": 3600, "min_remaining": 1800, "expires": 7200}
    name = put(storage, "video.mp4", b"frames")
    client.force_login(user)
    if site == "already-running":  # the token cache exists before the test freezes time
        shared_authorizer()
    start = datetime.now(timezone.utc)
    with freeze_time(start) as frozen:
        link = storage.url(name)
        b2_server.reset_calls()
        first = location(client, link)
        frozen.tick(timedelta(seconds=1799))
        assert location(client, link) == first
        assert b2_server.calls[AUTH] == 1
        frozen.tick(timedelta(seconds=2))  # 1801 s: less than 1800 s of the token would remain
        second = location(client, link)
        assert b2_server.calls[AUTH] == 2
        assert second != first
        assert requests.get(first, timeout=10).status_code == 200  # still valid for 1799 s
        assert requests.get(second, timeout=10).content == b"frames"
        frozen.tick(timedelta(seconds=1800))  # 3601 s: the first token has expired at B2
        assert requests.get(first, timeout=10).status_code == 401


@pytest.mark.parametrize("cache", ["default", None])
def test_the_shared_django_cache_survives_a_cleared_process_cache(
    settings: Any,
    client: Client,
    user: Any,
    storage: SignedB2Storage,
    b2_server: LocalB2,
    cache: str | None,
) -> None:
    settings.B2_ACCESS = {"cache": cache}
    link = storage.url(put(storage, "shared.txt", b"s"))
    client.force_login(user)
    b2_server.reset_calls()
    first = location(client, link)
    assert b2_server.calls[AUTH] == 1
    shared_authorizer().clear()  # this process forgets; the Django cache remembers (if any)
    again = location(client, link)
    # Another process: its own authorizer, the same shared cache.
    other_process = DownloadAuthorizer(get_access_settings())
    served_as = tuple(storage.served_as("shared.txt").items())  # pinned in a file's token
    wanted = TokenRequest(storage.token_prefix("shared.txt"), served_as, exact=True)
    token = other_process.tokens.token(storage, wanted, other_process.policy)
    if cache is None:
        assert b2_server.calls[AUTH] == 3
        return
    assert again == first
    assert token == b2_query(first)["Authorization"]
    assert b2_server.calls[AUTH] == 1
    caches["default"].clear()
    shared_authorizer().clear()
    assert location(client, link) != first
    assert b2_server.calls[AUTH] == 2


@pytest.mark.parametrize(
    ("options", "disposition"),
    [
        ({"attachment": True}, 'attachment; filename="plain name.pdf"'),
        ({"attachment": True, "filename": "report.pdf"}, 'attachment; filename="report.pdf"'),
        (
            {"attachment": True, "filename": "Résumé 2024 – été.pdf"},
            'attachment; filename="Resume 2024  ete.pdf"',
        ),
        ({"attachment": True, "filename": 'a"b\\c.pdf'}, 'attachment; filename="abc.pdf"'),
        ({"attachment": True, "filename": "日本語"}, 'attachment; filename="download"'),
        ({"attachment": False}, None),
    ],
)
def test_content_disposition_is_pinned_in_the_token(
    client: Client,
    user: Any,
    storage: SignedB2Storage,
    b2_server: LocalB2,
    options: dict[str, Any],
    disposition: str | None,
) -> None:
    name = put(storage, "dir/plain name.pdf", b"%PDF-1.7")
    client.force_login(user)
    url = location(client, storage.signed_url(name, **options))
    assert b2_query(url).get("b2ContentDisposition") == disposition
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.7"
    assert response.headers.get("Content-Disposition") == disposition
    if disposition is not None:
        assert disposition.isascii() and "filename*" not in disposition
        # The header is pinned: a browser (or anyone) cannot drop or change it.
        dropped = url.replace("&b2ContentDisposition=", "&x=")
        assert requests.get(dropped, timeout=10).status_code == 401


def test_a_non_ascii_stored_name_as_attachment_is_plain_attachment(
    client: Client, user: Any, storage: SignedB2Storage
) -> None:
    name = put(storage, "photos/été à Zürich.jpg", b"\xff\xd8jpeg")
    client.force_login(user)
    link = storage.signed_url(name, attachment=True)
    assert link.endswith("/photos/%C3%A9t%C3%A9%20%C3%A0%20Z%C3%BCrich.jpg")
    url = location(client, link)
    assert b2_query(url)["b2ContentDisposition"] == "attachment"
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.content == b"\xff\xd8jpeg"


def test_cache_control_is_pinned_and_each_header_set_has_its_own_token(
    client: Client, user: Any, storage: SignedB2Storage, b2_server: LocalB2
) -> None:
    name = put(storage, "cc.txt", b"cc")
    client.force_login(user)
    b2_server.reset_calls()
    inline = location(client, storage.signed_url(name))
    cached = location(client, storage.signed_url(name, cache_control="max-age=60, private"))
    both = location(client, storage.signed_url(name, cache_control="no-cache", attachment=True))
    assert b2_server.calls[AUTH] == 3
    assert len({b2_query(u)["Authorization"] for u in (inline, cached, both)}) == 3
    assert requests.get(cached, timeout=10).headers["Cache-Control"] == "max-age=60, private"
    headers = requests.get(both, timeout=10).headers
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Content-Disposition"] == 'attachment; filename="cc.txt"'
    for url in (inline, cached, both):  # warm: no new call
        assert location(client, storage.signed_url(name, **_options_of(url))) == url
    assert b2_server.calls[AUTH] == 3


def _options_of(url: str) -> dict[str, Any]:
    query = b2_query(url)
    return {
        "attachment": "b2ContentDisposition" in query,
        "cache_control": query.get("b2CacheControl"),
    }


def test_storage_attachment_option_is_the_default(
    client: Client, user: Any, make_storage: MakeStorage
) -> None:
    storage = make_storage(tier="logged_in", attachment=True)
    name = put(storage, "always.csv", b"a,b")
    client.force_login(user)
    url = location(client, storage.url(name))
    assert b2_query(url)["b2ContentDisposition"] == 'attachment; filename="always.csv"'
    inline = location(client, storage.signed_url(name, attachment=False))
    assert "b2ContentDisposition" not in b2_query(inline)


def test_b2storage_url_and_signed_links_share_one_token_cache(
    settings: Any, client: Client, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    settings.B2_ACCESS = {"token_lifetime": 900, "min_remaining": 450, "cache": None}
    plain = B2Storage(**b2_server.storage_options(bucket, url_expires=900))
    signed = SignedB2Storage(**b2_server.storage_options(bucket))
    name = put(signed, "one-path.txt", b"one")
    b2_server.reset_calls()
    direct = plain.url(name)  # the same policy: 900 s, handed out for 450 s, no shared cache
    client.force_login(user)
    assert location(client, signed.url(name)) == direct
    assert b2_server.calls[AUTH] == 1


@pytest.mark.django_db
def test_a_small_token_cache_under_many_threads_never_fails(storage: SignedB2Storage) -> None:
    names = [put(storage, f"many/{i}.txt", b"x") for i in range(24)]
    authorizer = DownloadAuthorizer(parse_access_settings({"local_cache_size": 4, "cache": None}))
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        try:
            for _round in range(6):
                for name in names[offset:] + names[:offset]:
                    authorizer.url(
                        storage, Grant(storage.fingerprint, name, "logged_in", 60).delivery
                    )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i * 3,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db
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
