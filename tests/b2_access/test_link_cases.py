"""The attack cases reproduced in the exact-grants issue, each through Django's test client and
its ASGI client (the ``fetch`` fixture): the B2 URL behind a click opens the clicked file, and,
with the same Authorization, none of the other stored files the issue named; a name that another
file extends is refused (403), never over-granted; the B2 URL dies 15 minutes after the click.

Each case checks that the other file is really stored (its own bytes exist) and that the same
Authorization does open the clicked file, so none of them passes for a dead or wrong URL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path
from freezegun import freeze_time

from b2_access import LoggedInStorage, SignedB2Storage, StaffStorage, redirect_to_file
from b2_storage import B2Storage
from b2_storage.emulator import LocalB2
from tests import other_tool
from tests.testapp.models import Document
from tests.urls import login

from ..b2urls import b2_get
from .conftest import Fetch, MakeStorage, put

pytestmark = pytest.mark.usefixtures("db")
NOT_YOURS = "This file belongs to someone else."


# -- the example's owner-only view (example.files.views.private_download), sync and async ----
@login_required
@redirect_to_file
def private_download(request: HttpRequest, pk: int) -> Any:
    item = get_object_or_404(Document, pk=pk)  # the title names the owner
    if item.title != request.user.get_username():
        raise PermissionDenied(NOT_YOURS)
    return item.attachment


@login_required
@redirect_to_file
async def private_download_async(request: HttpRequest, pk: int) -> Any:
    item = await Document.objects.aget(pk=pk)
    if item.title != (await request.auser()).get_username():
        raise PermissionDenied(NOT_YOURS)
    return item.attachment


urlpatterns = [
    path("accounts/login/", login, name="login"),
    path("private/<int:pk>/download/", private_download),
    path("private-async/<int:pk>/download/", private_download_async),
]


def assert_opens_only(location: str, own: bytes, others: dict[str, bytes]) -> None:
    """Fail unless the B2 URL ``location`` downloads ``own`` and, with the same Authorization,
    none of ``others`` (B2 names, each with its bytes)."""
    mine = b2_get(location)
    assert (mine.status_code, mine.content) == (200, own)
    for name, data in others.items():
        tried = b2_get(location, name)
        assert tried.status_code in (401, 403), (name, tried.status_code)
        assert tried.content != data, name


def assert_stored(server: LocalB2, bucket: str, files: dict[str, bytes]) -> None:
    """Fail unless each B2 name in ``files`` is stored with its bytes (so a refusal of it is the
    token's doing, not a missing file)."""
    reader = B2Storage(**server.storage_options(bucket))
    for name, data in files.items():
        with reader.open(name) as stored:
            assert stored.read() == data, name


# -- a. docs/q/invoice and docs/q/invoice-2025-salary.pdf -----------------------------------
def test_an_invoice_link_never_opens_the_salary_file_its_name_extends_to(
    fetch: Fetch, storage: SignedB2Storage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    salary = {"docs/q/invoice-2025-salary.pdf": b"salary"}
    link = storage.url(put(storage, "docs/q/invoice", b"invoice"))
    other_tool.write(b2_server, bucket, "docs/q/invoice-2025-salary.pdf", b"salary")
    control = storage.url(put(storage, "docs/q/receipt.pdf", b"receipt"))
    assert_stored(b2_server, bucket, {**salary, "docs/q/invoice": b"invoice"})

    response = fetch(link, user=user)
    if response.status_code == 403:  # the name is not sealed: refused, not over-granted
        assert response["X-B2-Access"] == "unsealed"
    else:
        assert response.status_code == 302, response.status_code
        assert_opens_only(response["Location"], b"invoice", salary)
    # The same user, storage and folder: a sealed name's click works, and grants that file only.
    location = fetch(control, user=user)["Location"]
    assert_opens_only(location, b"receipt", {**salary, "docs/q/invoice": b"invoice"})


# -- b. the example's owner-only files (folder-per-file layout, redirect_to_file) -----------
@pytest.fixture
def private(settings: Any, b2_server: LocalB2, bucket: str) -> SignedB2Storage:
    """The example's "private" storage (as default_storage, which Document's field uses), and
    this module's URLs."""
    options = b2_server.storage_options(bucket, location="private", layout="folder-per-file")
    settings.STORAGES = {
        "default": {"BACKEND": "b2_access.LoggedInStorage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.ROOT_URLCONF = __name__
    storage = storages["default"]
    assert isinstance(storage, LoggedInStorage)
    return storage


@pytest.fixture
def owned(
    private: SignedB2Storage, b2_server: LocalB2, bucket: str, user: Any, other_user: Any
) -> tuple[Document, dict[str, bytes]]:
    """Return user A's file ``n`` (saved after B's ``notes.txt``, whose name its flat name
    would prefix) and B's files by B2 name: one in the layout, one flat (from another tool)."""
    theirs = private.save("2026/notes.txt", ContentFile(b"B's notes"))
    other_tool.write(b2_server, bucket, "private/2026/notes.txt", b"B's flat notes")
    others = {private.b2_name(theirs): b"B's notes", "private/2026/notes.txt": b"B's flat notes"}
    Document.objects.create(title=other_user.username, attachment=theirs)
    name = private.save("2026/n", ContentFile(b"A's n"))  # as upload_to="%Y/" would
    mine = Document.objects.create(title=user.username, attachment=name)
    assert_stored(b2_server, bucket, {private.b2_name(name): b"A's n", **others})
    return mine, others


@pytest.mark.parametrize("view", ["private", "private-async"])
def test_an_owner_only_download_opens_no_other_users_file(
    fetch: Fetch,
    owned: tuple[Document, dict[str, bytes]],
    user: Any,
    other_user: Any,
    view: str,
) -> None:
    mine, others = owned
    url = f"/{view}/{mine.pk}/download/"
    response = fetch(url, user=user)
    assert response.status_code == 302, response.status_code
    assert_opens_only(response["Location"], b"A's n", others)
    refused = fetch(url, user=other_user)  # the view's own rule, through handler403
    assert refused.status_code == 403 and not refused.has_header("Location")


def test_a_link_bound_to_a_user_opens_no_other_users_file(
    fetch: Fetch,
    private: SignedB2Storage,
    owned: tuple[Document, dict[str, bytes]],
    user: Any,
    other_user: Any,
) -> None:
    mine, others = owned
    link = private.signed_url(mine.attachment.name, user=user)
    response = fetch(link, user=user)
    assert response.status_code == 302, response.status_code
    assert_opens_only(response["Location"], b"A's n", others)
    forwarded = fetch(link, user=other_user)
    assert forwarded.status_code == 403 and forwarded["X-B2-Access"] == "user"


# -- c. a logged-in and a staff storage on one bucket ---------------------------------------
@pytest.fixture
def docs(make_storage: MakeStorage) -> SignedB2Storage:
    return make_storage(LoggedInStorage, location="docs")


@pytest.fixture
def staff(make_storage: MakeStorage) -> SignedB2Storage:
    return make_storage(StaffStorage, location="staff-reports")


def test_a_logged_in_link_never_opens_the_staff_storages_files(
    fetch: Fetch,
    docs: SignedB2Storage,
    staff: SignedB2Storage,
    user: Any,
    b2_server: LocalB2,
    bucket: str,
) -> None:
    payroll = {"staff-reports/payroll.csv": b"payroll"}
    staff_link = staff.url(put(staff, "payroll.csv", b"payroll"))
    link = docs.url(put(docs, "r", b"r"))
    assert_stored(b2_server, bucket, payroll)
    response = fetch(link, user=user)
    assert response.status_code == 302, response.status_code
    assert_opens_only(response["Location"], b"r", payroll)
    assert fetch(staff_link, user=user)["X-B2-Access"] == "tier"  # and no way in through it


def test_a_neighbour_extending_the_name_makes_the_click_a_403(
    fetch: Fetch,
    docs: SignedB2Storage,
    staff: SignedB2Storage,
    user: Any,
    b2_server: LocalB2,
    bucket: str,
) -> None:
    neighbour = {"docs/reports-2026/payroll.csv": b"payroll 2026"}
    put(staff, "payroll.csv", b"payroll")
    link = docs.url(put(docs, "r", b"r"))
    other_tool.write(b2_server, bucket, "docs/reports-2026/payroll.csv", b"payroll 2026")
    assert_stored(b2_server, bucket, {**neighbour, "docs/r": b"r"})
    response = fetch(link, user=user)
    assert response.status_code == 403, response.status_code
    assert response["X-B2-Access"] == "unsealed" and not response.has_header("Location")
    # The neighbour's own link works: the 403 is the seal check's, not a broken storage's.
    location = fetch(docs.url("reports-2026/payroll.csv"), user=user)["Location"]
    assert_opens_only(location, b"payroll 2026", {"docs/r": b"r"})


# -- d. the B2 URL outlives the 5-minute link, but by at most 15 minutes --------------------
def test_the_b2_url_dies_15_minutes_after_the_click_though_the_link_lived_5(
    fetch: Fetch, storage: SignedB2Storage, user: Any
) -> None:
    name = put(storage, "ttl/clicked.txt", b"clicked")
    # freezegun moves the clock of the in-process local B2 server too: it checks token expiry
    # against time.time().
    with freeze_time() as frozen:
        link = storage.url(name)  # B2_ACCESS["expires"]: 300 s
        first = fetch(link, user=user)["Location"]
        frozen.tick(timedelta(minutes=4, seconds=50))
        late = fetch(link, user=user)  # the link's last seconds
        assert late.status_code == 302, late.status_code
        frozen.tick(timedelta(seconds=11))
        expired = fetch(link, user=user)
        assert expired.status_code == 403 and expired["X-B2-Access"] == "expired"
        frozen.tick(timedelta(minutes=9, seconds=48))  # the late click + 9:59
        assert b2_get(first).content == b2_get(late["Location"]).content == b"clicked"
        frozen.tick(timedelta(seconds=12))  # the first click + 15:01
        assert b2_get(first).status_code == 401
        frozen.tick(timedelta(minutes=4, seconds=50))  # the late click + 15:01
        assert b2_get(late["Location"]).status_code == 401
        assert b2_get(first).status_code == 401
