"""What a link grants: the B2 URL behind a 302 opens the link's file and nothing else, for at most
15 minutes; an unsealed name is refused, a refused key is remembered (issue: exact grants)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.test import Client
from freezegun import freeze_time

from b2_access import LoggedInStorage, SignedB2Storage
from b2_storage import B2NameNotSealed, B2Storage
from b2_storage.emulator import LocalB2

from .. import other_tool
from ..b2urls import b2_get
from .conftest import Fetch, MakeStorage, put

AUTH = "b2_get_download_authorization"
LIST = "b2_list_file_names"


def test_a_name_that_another_file_extends_is_refused_not_over_granted(
    fetch: Fetch,
    storage: SignedB2Storage,
    user: Any,
    b2_server: LocalB2,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = storage.url(put(storage, "docs/q/invoice", b"invoice"))
    other_tool.write(b2_server, bucket, "docs/q/invoice-2025-salary.pdf", b"salary")
    b2_server.reset_calls()
    with caplog.at_level(logging.WARNING, logger="b2_access"):
        response = fetch(link, user=user)
        again = fetch(link, user=user)
    assert response.status_code == again.status_code == 403
    assert response["X-B2-Access"] == "unsealed"
    assert b2_server.calls[AUTH] == 0  # no token was ever asked for
    assert b2_server.calls[LIST] == 1  # the refusal is remembered for the window
    logged = [r.getMessage() for r in caplog.records if "would also open" in r.getMessage()]
    assert len(logged) == 1  # once per name and window
    assert "docs/q/invoice-2025-salary.pdf" in logged[0] and "rename" in logged[0]


def test_the_refusal_ends_when_the_conflict_is_gone(
    fetch: Fetch, storage: SignedB2Storage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    link = storage.url(put(storage, "a/report", b"report"))
    other_tool.write(b2_server, bucket, "a/report-draft.txt", b"draft")
    with freeze_time() as frozen:
        assert fetch(link, user=user).status_code == 403
        storage.delete("a/report-draft.txt")
        assert fetch(link, user=user).status_code == 403  # remembered for the window
        frozen.tick(timedelta(seconds=61))
        assert fetch(link, user=user).status_code == 302


def test_a_sealed_names_b2_url_opens_that_file_only(
    fetch: Fetch, make_storage: MakeStorage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    storage = make_storage(LoggedInStorage)
    names = ["docs/a.tx", "docs/b.txt", "other/a.txt", "docs/a.txs", "docs/", "docs/a.tx/t"]
    link = storage.url(put(storage, "docs/a.txt", b"mine"))
    for name in names:
        stored = name.rstrip("/") + ("/x" if name.endswith("/") else "")
        other_tool.write(b2_server, bucket, stored, name.encode())
    location = fetch(link, user=user)["Location"]
    assert b2_get(location).content == b"mine"
    for other in [*names, "docs/x"]:
        assert b2_get(location, other).status_code in (401, 403), other


def test_a_cold_file_scope_click_costs_one_list_and_one_token_call(
    fetch: Fetch, storage: SignedB2Storage, user: Any, b2_server: LocalB2
) -> None:
    link = storage.url(put(storage, "cold/one.txt", b"1"))
    storage.file_url("cold/one.txt")  # the account is authorized and the bucket known
    b2_server.reset_calls()
    assert fetch(link, user=user).status_code == 302
    assert fetch(link, user=user).status_code == 302
    calls = {api: count for api, count in b2_server.calls.items() if count}
    assert calls == {LIST: 1, AUTH: 1}


def test_the_b2_url_is_valid_at_most_15_minutes_after_the_click(
    fetch: Fetch, storage: SignedB2Storage, user: Any
) -> None:
    name = put(storage, "ttl/file.txt", b"bytes")
    with freeze_time() as frozen:
        location = fetch(storage.url(name), user=user)["Location"]
        frozen.tick(timedelta(minutes=10))
        assert b2_get(location).status_code == 200  # long enough for a download or a video
        frozen.tick(timedelta(minutes=5, seconds=1))
        assert b2_get(location).status_code == 401
        # A later click gets a fresh URL: a cached token is handed out for 5 minutes at most.
        relinked = fetch(storage.url(name), user=user)["Location"]
        assert relinked != location and b2_get(relinked).status_code == 200


def test_a_key_without_share_files_is_asked_once_then_remembered(
    fetch: Fetch, b2_server: LocalB2, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    key_id, key = b2_server.create_key(
        ["listBuckets", "listFiles", "readFiles", "writeFiles"], bucket=bucket
    )
    options = {
        **b2_server.storage_options(bucket),
        "application_key_id": key_id,
        "application_key": key,
    }
    storage = SignedB2Storage(tier="public", **options)
    link = storage.url(put(storage, "p.txt", b"public"))
    b2_server.reset_calls()
    with freeze_time() as frozen, caplog.at_level(logging.ERROR, logger="b2_access"):
        answers = [fetch(link) for _ in range(20)]
        assert {a.status_code for a in answers} == {503}
        assert 0 < int(answers[-1]["Retry-After"]) <= 60
        assert b2_server.calls[AUTH] == 1 and b2_server.calls["b2_authorize_account"] <= 1
        frozen.tick(timedelta(seconds=61))
        assert fetch(link).status_code == 503
        assert b2_server.calls[AUTH] == 2  # one probe per window
    refusals = [r.getMessage() for r in caplog.records if "shareFiles" in r.getMessage()]
    assert len(refusals) == 2
    assert key not in caplog.text


def test_a_refused_storage_stops_no_other_storage_of_the_key(
    fetch: Fetch, b2_server: LocalB2, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    capabilities = ["listBuckets", "listFiles", "readFiles", "writeFiles", "shareFiles"]
    key_id, key = b2_server.create_key(capabilities, bucket=bucket, name_prefix="good/")
    options = {
        **b2_server.storage_options(bucket),
        "application_key_id": key_id,
        "application_key": key,
    }
    good = SignedB2Storage(tier="public", location="good", **options)
    bad = SignedB2Storage(tier="public", location="bad", **options)
    link = good.url(put(good, "a.txt", b"a"))
    with caplog.at_level(logging.ERROR, logger="b2_access"):
        assert fetch(bad.url("x.txt")).status_code == 503  # outside the key's name prefix
    assert "covers 'bad/x.txt'" in caplog.text  # the log says what to change
    b2_server.reset_calls()
    assert fetch(link).status_code == 302
    assert fetch(bad.url("x.txt")).status_code == 503
    assert b2_server.calls[AUTH] == 1  # the good one's token; the bad one is remembered


def test_a_wrong_key_is_remembered_and_the_log_says_to_check_it(
    fetch: Fetch, b2_server: LocalB2, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "K" * 31
    options = {**b2_server.storage_options(bucket), "application_key": wrong}
    storage = SignedB2Storage(tier="public", location="wrong-key", **options)
    b2_server.reset_calls()
    with caplog.at_level(logging.ERROR):
        assert {fetch(storage.url("w.txt")).status_code for _ in range(5)} == {503}
    assert b2_server.calls["b2_authorize_account"] == 1  # asked once, then remembered
    assert "refused to authorize" in caplog.text and "shareFiles" not in caplog.text
    assert wrong not in caplog.text


def test_b2storage_url_never_over_grants_either(b2_server: LocalB2, bucket: str) -> None:
    storage = B2Storage(**b2_server.storage_options(bucket))
    storage.save("inv/notes.txt", _content(b"secret"))
    other_tool.write(b2_server, bucket, "inv/n", b"n")
    with pytest.raises(B2NameNotSealed) as refused:
        storage.url("inv/n")
    assert refused.value.extended_by == "inv/notes.txt"
    url = storage.url("inv/notes.txt")
    assert requests.get(url, timeout=10).content == b"secret"


def _content(data: bytes) -> Any:
    from django.core.files.base import ContentFile

    return ContentFile(data)


def test_a_folder_per_file_storage_answers_its_own_links_beside_a_flat_one(
    fetch: Fetch, make_storage: MakeStorage, user: Any, b2_server: LocalB2
) -> None:
    flat = make_storage(LoggedInStorage, location="files")
    folders = make_storage(LoggedInStorage, location="files", layout="folder-per-file")
    assert flat.fingerprint != folders.fingerprint
    link = folders.url(folders.save("mine.txt", _content(b"mine")))
    folders.file_url("mine.txt")  # authorized, bucket known
    b2_server.reset_calls()
    assert fetch(link, user=user).status_code == 302
    assert {api: n for api, n in b2_server.calls.items() if n} == {AUTH: 1}  # no seal check


def test_a_link_to_a_missing_name_is_404_and_hands_out_no_token(
    fetch: Fetch, storage: SignedB2Storage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    link = storage.url("later/a")  # a token for it would open "later/ab", saved afterwards
    b2_server.reset_calls()
    response = fetch(link, user=user)
    assert response.status_code == 404 and response["X-B2-Access"] == "missing"
    assert b2_server.calls[AUTH] == 0


def test_redirect_to_file_grants_that_file_only_whatever_the_scope(
    rf: Any, make_storage: MakeStorage, b2_server: LocalB2, bucket: str
) -> None:
    from b2_access import redirect_to_file

    scoped = make_storage(LoggedInStorage, scope="bucket", location="shared")
    mine = put(scoped, "mine.txt", b"mine")
    put(scoped, "theirs.txt", b"theirs")

    @redirect_to_file
    def view(request: Any) -> Any:  # the view's own check passed for this one file
        return scoped, mine

    location = view(rf.get("/mine/"))["Location"]
    assert b2_get(location).content == b"mine"
    assert b2_get(location, "shared/theirs.txt").status_code == 401


def test_a_scopes_token_is_never_handed_out_as_one_files(
    fetch: Fetch, rf: Any, make_storage: MakeStorage, user: Any, b2_server: LocalB2, bucket: str
) -> None:
    from b2_access import redirect_to_file

    scoped = make_storage(LoggedInStorage, scope="docs/a")  # its region: names "docs/a..."
    other_tool.write(b2_server, bucket, "docs/a", b"the region's own name")
    other_tool.write(b2_server, bucket, "docs/ab", b"in the region")
    assert fetch(scoped.url("docs/ab"), user=user).status_code == 302  # caches "docs/a"'s token

    @redirect_to_file
    def view(request: Any) -> Any:  # decided for "docs/a" only, for anyone
        return scoped, "docs/a"

    response = view(rf.get("/one/"))
    assert response.status_code == 403 and response["X-B2-Access"] == "unsealed"


@pytest.mark.django_db
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


@pytest.mark.parametrize(
    ("name", "data", "served_as"),
    [
        ("up/evil.svg", b"<svg onload='alert(1)'/>", ("image/svg+xml", "attachment")),
        ("up/x.pdf", b"<script>alert(1)</script>", ("application/pdf", None)),
        ("up/page.html", b"<script>alert(1)</script>", ("text/html", "attachment")),
    ],
)
def test_a_b2_urls_holder_cannot_choose_how_b2_serves_the_file(
    fetch: Fetch,
    storage: SignedB2Storage,
    user: Any,
    name: str,
    data: bytes,
    served_as: tuple[str, str | None],
) -> None:
    location = fetch(storage.url(put(storage, name, data)), user=user)["Location"]
    served = b2_get(location)
    assert served.content == data
    assert served.headers["Content-Type"] == served_as[0]
    assert served.headers.get("Content-Disposition") == served_as[1]
    # B2 lets a URL's b2* parameters override what its token did not pin: ours pins the type,
    # and the attachment of what a browser would run.
    other_type = "text/plain" if served_as[0] == "text/html" else "text/html"
    hijacks: list[dict[str, str]] = [{"b2ContentType": other_type}]
    if served_as[1] is not None:
        hijacks.append({"b2ContentDisposition": "inline"})
    for hijack in hijacks:
        parts = urlsplit(location)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()} | hijack
        forged = parts._replace(query=urlencode(query)).geturl()
        answer = requests.get(forged, timeout=10)
        assert answer.status_code in (400, 401), (hijack, answer.status_code)
        assert data not in answer.content


def test_a_link_bound_to_a_user_is_for_that_file_whatever_the_scope(
    fetch: Fetch, make_storage: MakeStorage, user: Any, other_user: Any
) -> None:
    scoped = make_storage(LoggedInStorage, scope="bucket", location="private")
    mine = put(scoped, "alice/mine.txt", b"mine")
    put(scoped, "demo/notes.txt", b"demo's notes")
    for _ in range(2):  # cold, then warm (the async path answers warm links in the event loop)
        location = fetch(scoped.signed_url(mine, user=user), user=user)["Location"]
        assert b2_get(location).content == b"mine"
        assert b2_get(location, "private/demo/notes.txt").status_code == 401
    # The storage's unbound links keep the scope's token (one B2 call for many files).
    shared = fetch(scoped.url(mine), user=other_user)["Location"]
    assert b2_get(shared, "private/demo/notes.txt").content == b"demo's notes"
