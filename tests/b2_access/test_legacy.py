"""django-backblaze-b2's old links (``b2_access.legacy.urls``) against the local B2 server: the
same readers as before, the same 302 as signed links, and nothing more than the kind's storage.

This module is also the tests' URLconf: the login page and the old URLs, included as the migration
guide says.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.urls import include, path, reverse

from b2_access import SignedB2Storage
from b2_access.conf import get_access_settings
from b2_access.legacy.paths import looks_signed
from b2_storage.emulator import LocalB2
from tests.urls import login

from .conftest import Fetch, put

pytestmark = pytest.mark.urls(__name__)
urlpatterns = [
    path("accounts/login/", login),
    path("", include("b2_access.legacy.urls")),
]
ALIASES = {"public": "old-public", "logged_in": "old-members", "staff": "old-staff"}
ROUTES = {"public": "/b2/", "logged_in": "/b2l/", "staff": "/b2s/"}
# Who may follow each kind of old link: as django-backblaze-b2 7.0.0's views decided.
READERS = {
    "public": {None, "user", "staff_user"},
    "logged_in": {"user", "staff_user"},
    "staff": {"staff_user"},
}


@pytest.fixture
def legacy(settings: Any, b2_server: LocalB2, bucket: str) -> dict[str, SignedB2Storage]:
    """Configure the three kinds of old links, each on its own location of one bucket."""
    options = b2_server.storage_options(bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "old-public": {
            "BACKEND": "b2_access.PublicStorage",
            "OPTIONS": {**options, "location": "pub"},
        },
        "old-members": {
            "BACKEND": "b2_access.LoggedInStorage",
            "OPTIONS": {**options, "location": "members"},
        },
        "old-staff": {
            "BACKEND": "b2_access.StaffStorage",
            "OPTIONS": {**options, "location": "staff-only"},
        },
    }
    settings.B2_ACCESS = {"legacy": dict(ALIASES)}
    return {kind: storages[alias] for kind, alias in ALIASES.items()}


def assert_opens(response: Any, server: LocalB2, bucket: str, full: str, data: bytes) -> None:
    """Assert a 302 to B2 for the B2 name ``full``, and that B2 serves ``data`` there."""
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    assert location.startswith(f"{server.realm}/file/{bucket}/{quote(full)}?Authorization=")
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response.content == b""  # no bytes through Django
    assert requests.get(location, timeout=10).content == data


@pytest.mark.parametrize("who", [None, "user", "staff_user"])
@pytest.mark.parametrize("kind", ["public", "logged_in", "staff"])
def test_each_kind_of_old_link_opens_its_file_for_the_same_readers_as_before(
    request: pytest.FixtureRequest,
    fetch: Fetch,
    legacy: dict[str, SignedB2Storage],
    b2_server: LocalB2,
    bucket: str,
    kind: str,
    who: str | None,
) -> None:
    storage = legacy[kind]
    name = put(storage, f"reports/{kind} 2024.pdf", kind.encode())
    link = ROUTES[kind] + quote(name)
    response = fetch(link, user=None if who is None else request.getfixturevalue(who))
    if who in READERS[kind]:
        assert_opens(response, b2_server, bucket, storage.b2_name(name), kind.encode())
    elif who is None:
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={quote(link, safe='/')}"
    else:
        assert response.status_code == 403  # django-backblaze-b2 said 401 "Unauthorized"
        assert response["X-B2-Access"] == "tier"
        assert "Location" not in response


def test_the_old_url_names_still_reverse(legacy: dict[str, SignedB2Storage]) -> None:
    assert reverse("django_b2_storage:b2-public", args=["a b/c.pdf"]) == "/b2/a%20b/c.pdf"
    assert reverse("django_b2_storage:b2-logged-in", args=["x.pdf"]) == "/b2l/x.pdf"
    assert reverse("django_b2_storage:b2-staff", args=["x.pdf"]) == "/b2s/x.pdf"


@pytest.mark.parametrize(
    "link",
    [
        "/b2/members/secret.txt",  # its own location's "members/secret.txt": not there
        "/b2/../members/secret.txt",
        "/b2/%2e%2e/members/secret.txt",
        "/b2/x/../../members/secret.txt",
        "/b2//members/secret.txt",
        "/b2/./secret.txt",
        "/b2/staff-only/../../members/secret.txt",
    ],
)
def test_a_public_link_never_opens_another_storages_file(
    fetch: Fetch, legacy: dict[str, SignedB2Storage], user: Any, link: str
) -> None:
    put(legacy["logged_in"], "secret.txt", b"members only")
    for reader in (None, user):
        response = fetch(link, user=reader)
        assert response.status_code == 404, (link, response.status_code)
        assert "Location" not in response


def test_a_logged_in_link_never_opens_a_staff_file(
    fetch: Fetch, legacy: dict[str, SignedB2Storage], user: Any
) -> None:
    put(legacy["staff"], "payroll.csv", b"staff only")
    for link in ("/b2l/payroll.csv", "/b2l/../staff-only/payroll.csv", "/b2l/..%2fstaff-only/x"):
        assert fetch(link, user=user).status_code == 404


def test_a_missing_file_is_404_and_an_anonymous_reader_learns_nothing(
    fetch: Fetch, legacy: dict[str, SignedB2Storage], user: Any
) -> None:
    assert fetch("/b2/nowhere.pdf").status_code == 404
    assert fetch("/b2l/nowhere.pdf", user=user).status_code == 404
    anonymous = fetch("/b2l/nowhere.pdf")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_a_tampered_signed_link_is_still_refused(
    fetch: Fetch, legacy: dict[str, SignedB2Storage], user: Any
) -> None:
    name = put(legacy["logged_in"], "signed.txt", b"signed")
    put(legacy["public"], "signed.txt", b"public twin")
    link = legacy["logged_in"].url(name)
    token = link.split("/")[2]
    assert looks_signed(f"{token}/{name}")
    tampered = [
        link.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")),
        link.replace(token, token.split(".")[0] + ".AAAAAA.AAAA"),
        link.replace(name, "other.txt"),
        link + "x",
    ]
    for bad in tampered:
        response = fetch(bad)
        assert response.status_code == 403, bad
        assert response["X-B2-Access"] == "invalid"
    # The genuine link still works beside the old ones.
    assert fetch(link, user=user).status_code == 302


def test_an_old_link_whose_first_folder_looks_like_a_token_is_refused(
    fetch: Fetch, legacy: dict[str, SignedB2Storage]
) -> None:
    put(legacy["public"], "v1.2.3/notes.txt", b"notes")
    assert fetch("/b2/v1.2.3/notes.txt").status_code == 403  # documented in docs/migrating.md
    assert fetch("/b2/v1.2/notes.txt").status_code == 404  # any other shape goes on


def test_only_get_and_head(
    fetch: Fetch, legacy: dict[str, SignedB2Storage], b2_server: LocalB2, bucket: str
) -> None:
    name = put(legacy["public"], "head.txt", b"head")
    assert fetch("/b2/head.txt", method="head").status_code == 302
    response = fetch("/b2/head.txt", method="post")
    assert response.status_code == 405
    assert sorted(response["Allow"].split(", ")) == ["GET", "HEAD"]
    assert legacy["public"].exists(name)


def test_a_kind_left_out_of_the_setting_answers_404(
    settings: Any, fetch: Fetch, legacy: dict[str, SignedB2Storage], staff_user: Any
) -> None:
    put(legacy["staff"], "left-out.txt", b"x")
    settings.B2_ACCESS = {"legacy": {"public": "old-public"}}
    assert fetch("/b2s/left-out.txt", user=staff_user).status_code == 404


def test_without_the_setting_the_middleware_keeps_all_of_its_prefix(
    settings: Any, fetch: Fetch, legacy: dict[str, SignedB2Storage]
) -> None:
    put(legacy["public"], "p.txt", b"p")
    settings.B2_ACCESS = {}
    assert fetch("/b2/p.txt").status_code == 403  # an invalid signed link, as before
    assert fetch("/b2l/p.txt").status_code == 404


def test_under_another_prefix_the_old_public_links_need_no_fallthrough(
    settings: Any,
    fetch: Fetch,
    legacy: dict[str, SignedB2Storage],
    b2_server: LocalB2,
    bucket: str,
    user: Any,
) -> None:
    name = put(legacy["public"], "v1.2.3/notes.txt", b"notes")
    settings.B2_ACCESS = {"legacy": dict(ALIASES), "url_prefix": "/files/"}
    response = fetch("/b2/v1.2.3/notes.txt")
    assert_opens(response, b2_server, bucket, legacy["public"].b2_name(name), b"notes")
    signed = legacy["logged_in"].url(put(legacy["logged_in"], "s.txt", b"s"))
    assert signed.startswith("/files/")
    assert fetch(signed, user=user).status_code == 302


def test_a_misconfigured_alias_refuses_instead_of_opening(
    settings: Any, fetch: Fetch, legacy: dict[str, SignedB2Storage], user: Any
) -> None:
    put(legacy["logged_in"], "members.txt", b"members")
    # A logged-in storage named for public links: the check says E013; a click is refused.
    settings.B2_ACCESS = {"legacy": {"public": "old-members"}}
    assert fetch("/b2/members.txt").status_code == 404
    settings.B2_ACCESS = {"legacy": {"public": "staticfiles"}}  # not a B2 storage at all
    assert fetch("/b2/members.txt").status_code == 404


@pytest.mark.parametrize(
    ("legacy_setting", "message"),
    [
        ({"admin": "default"}, "Unknown B2_ACCESS['legacy'] key 'admin'"),
        ({"public": 3}, "must be a STORAGES alias (str), got int"),
        ({"public": "nowhere"}, "names the storage 'nowhere', which is not in STORAGES"),
    ],
)
def test_the_setting_is_validated(settings: Any, legacy_setting: Any, message: str) -> None:
    settings.B2_ACCESS = {"legacy": legacy_setting}
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        get_access_settings()


@pytest.mark.parametrize(
    ("rest", "signed"),
    [
        ("WyJh.awu7cw.sPCF_-x/name.txt", True),
        ("a.b.c/", True),
        ("a.b.c", False),  # no name: not a link of ours
        ("a.b/c.txt", False),
        ("a.b.c.d/x", False),
        ("a..c/x", False),
        ("a.b=.c/x", False),
        ("docs/report.pdf", False),
        ("report.final.pdf", False),
    ],
)
def test_what_looks_like_a_signed_link(rest: str, signed: bool) -> None:
    assert looks_signed(rest) is signed
