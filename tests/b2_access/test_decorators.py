"""View decorators: ``require_tier`` on sync and async views, and ``redirect_to_file`` views that
do their own object-level check and answer with the same 302 to B2 as the middleware."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from asgiref.sync import iscoroutinefunction
from django.core.files.base import ContentFile
from django.test import Client, override_settings

from b2_access import SignedB2Storage
from b2_storage.emulator import LocalB2
from tests.testapp.models import Document

from . import views
from .conftest import Fetch, put

pytestmark = pytest.mark.usefixtures("db")
urls = override_settings(ROOT_URLCONF="tests.b2_access.urls")
SIMPLE = {"BACKEND": "django.core.files.storage.InMemoryStorage"}


@pytest.fixture
def downloads(settings: Any, b2_server: LocalB2, bucket: str) -> SignedB2Storage:
    """STORAGES["downloads"] (staff tier: the views' own checks decide, not the tier) and
    STORAGES["default"] (what Document's FileField uses), both signed, on ``bucket``."""
    options = b2_server.storage_options(bucket)
    settings.STORAGES = {
        "default": {"BACKEND": "b2_access.LoggedInStorage", "OPTIONS": options},
        "staticfiles": SIMPLE,
        "downloads": {"BACKEND": "b2_access.StaffStorage", "OPTIONS": options},
        "plain": {"BACKEND": "b2_storage.B2Storage", "OPTIONS": options},
    }
    settings.ROOT_URLCONF = "tests.b2_access.urls"
    from django.core.files.storage import storages

    storage = storages["downloads"]
    assert isinstance(storage, SignedB2Storage)
    return storage


def test_decorated_views_keep_their_kind() -> None:
    assert iscoroutinefunction(views.staff_async) is True
    assert iscoroutinefunction(views.staff_sync) is False
    assert iscoroutinefunction(views.own_file_async) is True
    assert iscoroutinefunction(views.own_file) is False
    assert views.staff_sync.__name__ == "staff_sync"  # functools.wraps


@urls
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_require_tier(fetch: Fetch, kind: str, user: Any, staff_user: Any) -> None:
    path = f"/staff/{kind}/"
    anonymous = fetch(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next={quote(path)}"
    refused = fetch(path, user=user)
    assert refused.status_code == 403
    assert refused["X-B2-Access"] == "tier"
    allowed = fetch(path, user=staff_user)
    assert allowed.status_code == 200
    assert allowed.content == f"{kind} for carol".encode()


def follow(response: Any, server: LocalB2, bucket: str, name: str) -> requests.Response:
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    assert location.startswith(f"{server.realm}/file/{bucket}/{quote(name)}?Authorization=")
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    return requests.get(location, timeout=10)


@pytest.mark.parametrize("view", ["own", "own-async"])
def test_redirect_to_file_after_an_object_level_check(
    fetch: Fetch,
    downloads: SignedB2Storage,
    b2_server: LocalB2,
    bucket: str,
    user: Any,
    other_user: Any,
    staff_user: Any,
    view: str,
) -> None:
    name = put(downloads, "alice/notes/q1.txt", b"alice's notes")
    path = f"/{view}/alice/notes/q1.txt"
    downloaded = follow(fetch(path, user=user), b2_server, bucket, name)
    assert downloaded.status_code == 200
    assert downloaded.content == b"alice's notes"
    for stranger in (None, other_user, staff_user):  # the tier is not what decides here
        refused = fetch(path, user=stranger)
        assert refused.status_code == 403
        assert refused.content == b"Only the owner may download this."


def test_redirect_to_file_pins_attachment_options(
    client: Client, downloads: SignedB2Storage, b2_server: LocalB2, bucket: str, user: Any
) -> None:
    name = put(downloads, "alice/2024-q1 final.pdf", b"%PDF-report")
    client.force_login(user)
    response = client.get("/report/alice/2024-q1 final.pdf")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["b2ContentDisposition"] == ['attachment; filename="report.pdf"']
    downloaded = follow(response, b2_server, bucket, name)
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert downloaded.content == b"%PDF-report"


def test_redirect_to_file_with_a_field_file(
    client: Client,
    downloads: SignedB2Storage,
    b2_server: LocalB2,
    bucket: str,
    user: Any,
    other_user: Any,
) -> None:
    doc = Document(title="alice")
    doc.attachment.save("contract.txt", ContentFile(b"signed contract"))
    assert isinstance(doc.attachment.storage, SignedB2Storage)
    assert doc.attachment.name == "docs/contract.txt"
    assert doc.attachment.url.startswith("/b2/")  # the model's own url is a signed link too
    client.force_login(user)
    downloaded = follow(client.get(f"/document/{doc.pk}/"), b2_server, bucket, "docs/contract.txt")
    assert downloaded.content == b"signed contract"
    client.force_login(other_user)
    assert client.get(f"/document/{doc.pk}/").status_code == 403


def test_redirect_to_file_with_an_empty_field_file_is_404(
    client: Client, downloads: SignedB2Storage, user: Any
) -> None:
    doc = Document.objects.create(title="alice")
    client.force_login(user)
    assert client.get(f"/document/{doc.pk}/").status_code == 404


@pytest.mark.parametrize(("kind", "message"), [("text", "not str"), ("plain", "not B2Storage")])
def test_redirect_to_file_rejects_what_is_not_a_signed_file(
    client: Client, downloads: SignedB2Storage, kind: str, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        client.get(f"/wrong/{kind}/")


def test_redirect_to_file_answers_503_when_b2_fails(
    client: Client, downloads: SignedB2Storage, b2_server: LocalB2, user: Any
) -> None:
    put(downloads, "alice/busy.txt", b"x")
    client.force_login(user)
    b2_server.fail_next("b2_get_download_authorization", 30, status=503, retry_after=0)
    response = client.get("/own/alice/busy.txt")
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
