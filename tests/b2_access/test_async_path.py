"""Under ASGI a warm link is answered in the event loop: same verdicts, no B2 call, no thread."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import AsyncClient

import b2_access
from b2_access import SignedB2Storage, StaffStorage
from b2_storage.emulator import LocalB2

from .conftest import MakeStorage, put

pytestmark = pytest.mark.django_db


def get(path: str, user: Any = None) -> Any:
    client = AsyncClient()
    if user is not None:
        client.force_login(user)
    return async_to_sync(client.get)(path)


def test_warm_link_redirects_without_b2_calls(
    storage: SignedB2Storage, user: Any, b2_server: LocalB2
) -> None:
    put(storage, "warm/a.txt", b"warm bytes")
    link = storage.url("warm/a.txt")
    cold = get(link, user)
    assert cold.status_code == 302
    b2_server.reset_calls()
    warm = get(link, user)
    assert warm.status_code == 302
    assert warm["Location"] == cold["Location"]
    assert warm["Cache-Control"] == "private, no-store"
    assert warm["Referrer-Policy"] == "no-referrer"
    assert dict(b2_server.calls) == {}
    assert requests.get(warm["Location"], timeout=10).content == b"warm bytes"


def test_warm_link_still_checks_the_user(
    make_storage: MakeStorage, user: Any, staff_user: Any
) -> None:
    staff = make_storage(StaffStorage)
    put(staff, "warm/staff.txt", b"s")
    link = staff.url("warm/staff.txt")
    assert get(link, staff_user).status_code == 302  # warms the token cache
    assert get(link, user).status_code == 403
    anonymous = get(link)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")


def test_bound_link_on_the_warm_path(storage: SignedB2Storage, user: Any, other_user: Any) -> None:
    put(storage, "warm/bound.txt", b"b")
    link = storage.signed_url("warm/bound.txt", user=user)
    assert get(link, user).status_code == 302
    assert get(link, user).status_code == 302  # warm
    assert get(link, other_user).status_code == 403


def test_a_custom_tier_that_queries_runs_in_a_thread(make_storage: MakeStorage, user: Any) -> None:
    @b2_access.tier("async-path-testers")
    def testers(request: Any) -> bool:  # a query: must not run in the event loop
        return bool(request.user.is_authenticated and get_user_model().objects.count() >= 1)

    try:
        custom = make_storage(tier="async-path-testers")
        put(custom, "warm/custom.txt", b"c")
        link = custom.url("warm/custom.txt")
        assert get(link, user).status_code == 302
        assert get(link, user).status_code == 302
    finally:
        b2_access.tiers.unregister("async-path-testers")


def test_a_resolver_uses_what_it_is_given_sync_and_async(
    storage: SignedB2Storage, b2_server: LocalB2
) -> None:
    """Its signer, tiers and storage look-ups are its own: nothing global decides for it."""
    from django.test import RequestFactory

    from b2_access.conf import get_access_settings
    from b2_access.resolver import DownloadResolver, shared_authorizer
    from b2_access.signing import Grant, UrlSigner
    from b2_access.tiers import Tier, TierRegistry

    name = put(storage, "injected.txt", b"injected")
    registry = TierRegistry()
    registry.register(Tier("friends", lambda request: True, reads_only_user=True))
    signer = UrlSigner(["a-signing-key-of-this-resolver-only-0123456789"])
    seen: list[str] = []

    def known(fingerprint: str) -> SignedB2Storage | None:
        seen.append(fingerprint)
        return storage if fingerprint == storage.fingerprint else None

    resolver = DownloadResolver(
        get_access_settings(),
        shared_authorizer(),
        known,
        known=known,
        tier_registry=registry,
        signer=signer,
    )
    token = signer.sign(Grant(storage.fingerprint, name, "friends", 60))
    path = f"{resolver.prefix}{token}/{name}"
    request = RequestFactory().get(path)
    request.user = get_user_model()()  # the "friends" tier lets anyone in
    answer = resolver.respond(request)
    assert answer.status_code == 302, answer
    assert requests.get(answer["Location"], timeout=10).content == b"injected"
    assert async_to_sync(resolver.arespond)(request).status_code == 302
    assert set(seen) == {storage.fingerprint}  # every look-up went through ``known``
    # The process's resolver knows neither this signer nor this tier.
    assert b2_access.resolver.shared_resolver().respond(request).status_code == 403
