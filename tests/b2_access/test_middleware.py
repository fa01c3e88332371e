"""B2AccessMiddleware's verdicts through Django's test client and its ASGI test client: the 302 to
B2 (followed with a plain HTTP client), login redirects, 403s, 405s, 503s, and what it leaves alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
import requests
from asgiref.sync import iscoroutinefunction
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from freezegun import freeze_time

import b2_access
from b2_access import LoggedInStorage, PublicStorage, SignedB2Storage, StaffStorage
from b2_access.conf import signing_keys
from b2_access.middleware import B2AccessMiddleware
from b2_access.signing import Grant, UrlSigner
from b2_storage.emulator import LocalB2

from .conftest import Fetch, MakeStorage, new_bucket, put

DATA = bytes(range(256)) * 40  # 10,240 bytes


def assert_b2_redirect(response: Any, server: LocalB2, bucket: str, name: str) -> str:
    """Assert a 302 to the file on the local B2 server; return its Location."""
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    expected = f"{server.realm}/file/{bucket}/{quote(name)}?Authorization="
    assert location.startswith(expected), location
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    return str(location)


def assert_login_redirect(response: Any, link: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(link, safe='/')}"


def test_logged_in_user_is_redirected_to_b2_and_b2_serves_the_bytes(
    fetch: Fetch, storage: SignedB2Storage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    name = put(storage, "docs/report 2024.bin", DATA)
    link = storage.url(name)
    assert link.startswith("/b2/") and link.endswith("/docs/report%202024.bin")
    location = assert_b2_redirect(fetch(link, user=user), b2_server, bucket, name)

    whole = requests.get(location, timeout=10)
    assert whole.status_code == 200
    assert whole.content == DATA
    part = requests.get(location, headers={"Range": "bytes=1000-1999"}, timeout=10)
    assert part.status_code == 206
    assert part.content == DATA[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(DATA)}"
    # The token opens this file only.
    other = location.replace(quote(name), "docs/other.bin")
    assert requests.get(other, timeout=10).status_code == 401


def test_head_is_answered_like_get(
    fetch: Fetch, storage: SignedB2Storage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    name = put(storage, "head.txt", b"x")
    assert_b2_redirect(fetch(storage.url(name), user=user, method="head"), b2_server, bucket, name)


@pytest.mark.parametrize(
    ("cls", "who", "verdict"),
    [
        (PublicStorage, None, "b2"),
        (PublicStorage, "user", "b2"),
        (LoggedInStorage, None, "login"),
        (LoggedInStorage, "user", "b2"),
        (LoggedInStorage, "staff_user", "b2"),
        (StaffStorage, None, "login"),
        (StaffStorage, "user", 403),
        (StaffStorage, "staff_user", "b2"),
    ],
)
def test_tier_verdicts(
    request: pytest.FixtureRequest,
    fetch: Fetch,
    make_storage: MakeStorage,
    b2_server: LocalB2,
    bucket: str,
    cls: type[SignedB2Storage],
    who: str | None,
    verdict: str | int,
) -> None:
    storage = make_storage(cls)
    name = put(storage, f"{cls.__name__}.txt", b"tiered")
    link = storage.url(name)
    response = fetch(link, user=None if who is None else request.getfixturevalue(who))
    if verdict == "b2":
        assert_b2_redirect(response, b2_server, bucket, name)
    elif verdict == "login":
        assert_login_redirect(response, link)
    else:
        assert response.status_code == 403
        assert response["X-B2-Access"] == "tier"
        assert b"may not open this file" in response.content
        assert "Location" not in response


def test_public_tier_on_a_public_bucket_gives_the_direct_url(
    b2_server: LocalB2, make_storage: MakeStorage, user: Any
) -> None:
    public_bucket = new_bucket(b2_server, "allPublic")
    storage = make_storage(PublicStorage, bucket=public_bucket)
    name = put(storage, "open.txt", b"open")
    url = storage.url(name)
    assert url == f"{b2_server.realm}/file/{public_bucket}/open.txt"
    assert requests.get(url, timeout=10).content == b"open"
    # A link bound to a user is still signed.
    assert storage.signed_url(name, user=user).startswith("/b2/")


def test_expired_link_is_refused_with_a_page_that_says_so(
    fetch: Fetch, storage: SignedB2Storage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    name = put(storage, "soon-gone.txt", b"x")
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        link = storage.signed_url(name, expires=60)
        frozen.tick(timedelta(seconds=59))
        assert_b2_redirect(fetch(link, user=user), b2_server, bucket, name)
        frozen.tick(timedelta(seconds=2))
        response = fetch(link, user=user)
    assert response.status_code == 403
    assert response["X-B2-Access"] == "expired"
    assert b"expired" in response.content
    assert response["Cache-Control"] == "private, no-store"


def test_tampered_link_is_refused(fetch: Fetch, storage: SignedB2Storage, user: Any) -> None:
    name = put(storage, "t.txt", b"x")
    link = storage.url(name)
    prefix, token, rest = link[:4], link[4:].split("/", 1)[0], link[4:].split("/", 1)[1]
    payload, stamp, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]  # a full 6 bits change
    response = fetch(f"{prefix}{payload}.{stamp}.{flipped}/{rest}", user=user)
    assert response.status_code == 403
    assert response["X-B2-Access"] == "invalid"


def test_link_of_an_unknown_storage_is_refused(fetch: Fetch, user: Any) -> None:
    grant = Grant(storage="0123456789ab", name="a.txt", tier="public", expires=60)
    token = UrlSigner(signing_keys()).sign(grant)
    response = fetch(f"/b2/{token}/a.txt", user=user)
    assert response.status_code == 403
    assert response["X-B2-Access"] == "storage"


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch", "options"])
def test_unsafe_methods_get_405(
    fetch: Fetch, storage: SignedB2Storage, user: Any, method: str
) -> None:
    name = put(storage, "m.txt", b"x")
    response = fetch(storage.url(name), user=user, method=method)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/b2evil/x/y.txt", "/b2", "/b2x", "/B2/x/y.txt", "/other/b2/x/y"])
def test_paths_outside_the_prefix_are_left_to_url_routing(fetch: Fetch, path: str) -> None:
    response = fetch(path)
    assert response.status_code == 404
    assert "X-B2-Access" not in response


def test_link_bound_to_a_user(
    fetch: Fetch,
    storage: SignedB2Storage,
    user: Any,
    other_user: Any,
    staff_user: Any,
    b2_server: LocalB2,
    bucket: str,
) -> None:
    name = put(storage, "mine.txt", b"mine")
    link = storage.signed_url(name, user=user)
    assert_b2_redirect(fetch(link, user=user), b2_server, bucket, name)
    for stranger in (other_user, staff_user):
        response = fetch(link, user=stranger)
        assert response.status_code == 403
        assert response["X-B2-Access"] == "user"
    assert_login_redirect(fetch(link), link)


def test_inactive_user_is_refused(
    fetch: Fetch, storage: SignedB2Storage, django_user_model: Any
) -> None:
    inactive = django_user_model.objects.create_user("dormant", password="pw", is_active=False)
    name = put(storage, "i.txt", b"x")
    link = storage.url(name)
    # ModelBackend does not load inactive users: the request is anonymous, so: log in.
    assert_login_redirect(fetch(link, user=inactive), link)
    bound = storage.signed_url(name, user=inactive)
    assert_login_redirect(fetch(bound, user=inactive), bound)


@pytest.fixture
def subscribers_tier() -> Iterator[str]:
    @b2_access.tier("subscribers")
    def subscribers(request: HttpRequest) -> bool:
        user = request.user
        return user.is_authenticated and user.groups.filter(name="subscribers").exists()

    yield "subscribers"
    b2_access.tiers.unregister("subscribers")


def test_custom_tier(
    fetch: Fetch,
    subscribers_tier: str,
    make_storage: MakeStorage,
    user: Any,
    other_user: Any,
    b2_server: LocalB2,
    bucket: str,
) -> None:
    user.groups.add(Group.objects.create(name="subscribers"))
    storage = make_storage(tier=subscribers_tier)
    name = put(storage, "issue-42.pdf", b"%PDF")
    link = storage.url(name)
    assert_b2_redirect(fetch(link, user=user), b2_server, bucket, name)
    refused = fetch(link, user=other_user)
    assert refused.status_code == 403
    assert refused["X-B2-Access"] == "tier"
    assert_login_redirect(fetch(link), link)


def test_link_of_an_unregistered_tier_is_refused(
    fetch: Fetch, subscribers_tier: str, make_storage: MakeStorage, user: Any
) -> None:
    storage = make_storage(tier=subscribers_tier)
    link = storage.url(put(storage, "gone-tier.txt", b"x"))
    b2_access.tiers.unregister(subscribers_tier)
    response = fetch(link, user=user)
    assert response.status_code == 403


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "Location" not in response


@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.parametrize("attachment", [True, False], ids=["raw-endpoint", "b2sdk"])
def test_b2_failing_download_authorization_gives_503_then_heals(
    fetch: Fetch,
    storage: SignedB2Storage,
    user: Any,
    b2_server: LocalB2,
    bucket: str,
    attachment: bool,
    status: int,
) -> None:
    name = put(storage, "busy.txt", b"busy")
    link = storage.signed_url(name, attachment=attachment)
    b2_server.fail_next("b2_get_download_authorization", 30, status=status, retry_after=0)
    started = time.monotonic()
    assert_unavailable(fetch(link, user=user))
    assert time.monotonic() - started < 5  # b2sdk's retries honour Retry-After: 0
    b2_server.clear_faults()
    location = assert_b2_redirect(fetch(link, user=user), b2_server, bucket, name)
    assert requests.get(location, timeout=10).content == b"busy"


@pytest.mark.parametrize("attachment", [True, False], ids=["raw-endpoint", "b2sdk"])
def test_b2_failing_reauthorization_gives_503_then_heals(
    fetch: Fetch,
    storage: SignedB2Storage,
    user: Any,
    b2_server: LocalB2,
    bucket: str,
    attachment: bool,
) -> None:
    name = put(storage, "reauth.txt", b"again")
    link = storage.signed_url(name, attachment=attachment)
    b2_server.expire_tokens()
    b2_server.fail_next("b2_authorize_account", 30, status=503, retry_after=0)
    assert_unavailable(fetch(link, user=user))
    b2_server.clear_faults()
    location = assert_b2_redirect(fetch(link, user=user), b2_server, bucket, name)
    assert requests.get(location, timeout=10).content == b"again"
    assert b2_server.calls["b2_authorize_account"] >= 2


def test_middleware_is_sync_and_async_capable(storage: SignedB2Storage) -> None:
    def sync_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("next")

    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("next")

    assert B2AccessMiddleware.sync_capable is True
    assert B2AccessMiddleware.async_capable is True
    assert iscoroutinefunction(B2AccessMiddleware(async_view)) is True
    assert iscoroutinefunction(B2AccessMiddleware(sync_view)) is False


def test_requests_outside_the_prefix_reach_the_view(fetch: Fetch) -> None:
    response = fetch("/accounts/login/")
    assert response.status_code == 200
    assert response.content == b"login page"


def test_middleware_follows_override_settings(
    client: Any, settings: Any, storage: SignedB2Storage, user: Any
) -> None:
    """A test client's middleware is built at its first request; settings overridden after
    that (b2_access resets its caches on setting_changed) must still apply to it."""
    client.force_login(user)
    put(storage, "a.txt", b"a")
    assert client.get(storage.url("a.txt")).status_code == 302  # builds the middleware
    settings.SECRET_KEY = "rotated-" + "r" * 56
    assert client.get(storage.url("a.txt")).status_code == 302  # signed with the new key
    settings.B2_ACCESS = {"url_prefix": "/files/"}
    link = storage.url("a.txt")
    assert link.startswith("/files/")
    assert client.get(link).status_code == 302
