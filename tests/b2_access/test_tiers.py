"""The tier registry: built-in predicates, custom tiers, and the errors of a misused registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.test import Client, RequestFactory

import b2_access
from b2_access import SignedB2Storage, Tier, UnknownTier, tiers
from b2_access.tiers import BUILT_IN

from .conftest import MakeStorage, put


def request_as(user: Any) -> HttpRequest:
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.fixture
def people(django_user_model: Any) -> dict[str, Any]:
    make = django_user_model.objects.create_user
    return {
        "anonymous": AnonymousUser(),
        "user": make("u", password="pw"),
        "inactive": make("i", password="pw", is_active=False),
        "staff": make("s", password="pw", is_staff=True),
        "inactive staff": make("is", password="pw", is_staff=True, is_active=False),
        "superuser": make("su", password="pw", is_superuser=True),
    }


@pytest.mark.parametrize(
    ("tier", "allowed"),
    [
        ("public", {"anonymous", "user", "inactive", "staff", "inactive staff", "superuser"}),
        ("logged_in", {"user", "staff", "superuser"}),
        ("staff", {"staff"}),
    ],
)
def test_built_in_tiers(people: dict[str, Any], tier: str, allowed: set[str]) -> None:
    verdicts = {who for who, user in people.items() if tiers[tier].allows(request_as(user))}
    assert verdicts == allowed


def test_built_in_tiers_and_who_is_sent_to_log_in() -> None:
    assert set(BUILT_IN) <= set(tiers.names())
    assert tiers["public"].needs_login is False
    assert tiers["logged_in"].needs_login is True
    assert tiers["staff"].needs_login is True
    assert "public" in tiers and "nope" not in tiers


def test_a_request_without_user_is_anonymous() -> None:
    request = RequestFactory().get("/")
    assert tiers["public"].allows(request) is True
    assert tiers["logged_in"].allows(request) is False
    assert tiers["staff"].allows(request) is False


def test_unknown_tier() -> None:
    with pytest.raises(UnknownTier) as caught:
        tiers["nope"]
    assert caught.value.name == "nope"
    assert isinstance(caught.value, LookupError)
    assert "nope" in str(caught.value)


@pytest.fixture
def registered() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        tiers.unregister(name)


def test_register_custom_tiers(registered: list[str], people: dict[str, Any]) -> None:
    @b2_access.tier("superusers")
    def superusers(request: HttpRequest) -> bool:
        return bool(getattr(request.user, "is_superuser", False))

    registered.append("superusers")
    assert superusers(request_as(people["superuser"])) is True  # the predicate is returned as is
    assert tiers["superusers"] == Tier("superusers", superusers, needs_login=True)
    assert tiers["superusers"].allows(request_as(people["superuser"])) is True
    assert tiers["superusers"].allows(request_as(people["staff"])) is False
    assert "superusers" in tiers.names()


def test_registering_a_name_twice_is_an_error(registered: list[str]) -> None:
    b2_access.tier("twice")(lambda request: True)
    registered.append("twice")
    with pytest.raises(ImproperlyConfigured, match="twice"):
        b2_access.tier("twice")(lambda request: False)
    with pytest.raises(ImproperlyConfigured, match="staff"):
        b2_access.tier("staff")(lambda request: True)
    assert tiers["staff"].allows(request_as(AnonymousUser())) is False  # unchanged


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_tiers_cannot_be_removed(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        tiers.unregister(name)
    assert name in tiers


def test_unregister_unknown_is_a_no_op() -> None:
    tiers.unregister("never-registered")


@pytest.mark.parametrize(("needs_login", "anonymous_status"), [(True, 302), (False, 403)])
def test_needs_login_decides_what_anonymous_users_get(
    registered: list[str],
    make_storage: MakeStorage,
    client: Client,
    db: None,
    needs_login: bool,
    anonymous_status: int,
) -> None:
    b2_access.tier("weekdays", needs_login=needs_login)(lambda request: False)
    registered.append("weekdays")
    storage: SignedB2Storage = make_storage(tier="weekdays")
    response = client.get(storage.url("w.txt"))
    assert response.status_code == anonymous_status
    if anonymous_status == 302:
        assert response["Location"].startswith("/accounts/login/?next=/b2/")
    else:
        assert response["X-B2-Access"] == "tier"


def test_a_tier_predicate_sees_the_request(
    registered: list[str], make_storage: MakeStorage, client: Client, db: None
) -> None:
    seen: list[str] = []

    @b2_access.tier("header")
    def header(request: HttpRequest) -> bool:
        seen.append(request.path)
        return request.headers.get("X-Token") == "yes"

    registered.append("header")
    storage = make_storage(tier="header")
    link = storage.url(put(storage, "h.txt", b"h"))
    assert "/file/" in client.get(link, headers={"X-Token": "yes"})["Location"]
    refused = client.get(link, headers={"X-Token": "no"})
    assert refused["Location"].startswith("/accounts/login/")  # anonymous: log in
    assert seen == [link, link]
