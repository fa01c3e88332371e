"""The local B2 server judged by b2sdk's own ``B2Api`` over real HTTP.

Every test that takes ``api`` runs twice: through ``b2sdk.v2`` (which talks ``/b2api/v3``) and
through ``b2sdk.v3`` (which talks ``/b2api/v4``).
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from b2sdk import v2, v3
from b2sdk.v3.exception import BadRequest, FileNotPresent, NonExistentBucket
from freezegun import freeze_time

from b2_storage.emulator import LocalB2
from b2_storage.emulator.keys import CAPABILITIES

VERSIONS = ("v2", "v3")
WIRE_VERSION = {"v2": "v3", "v3": "v4"}
NAMES = ("plain.txt", "dir one/naïve café ✓.txt")
DATA = b"0123456789abcdefghijklmnopqrstuvwxyz"


def connect(version: str, server: LocalB2, key: tuple[str, str] | None = None) -> Any:
    """Return a b2sdk ``B2Api`` of ``version`` authorized against ``server``."""
    key_id, secret = key or (server.application_key_id, server.application_key)
    if version == "v2":
        api2 = v2.B2Api(v2.InMemoryAccountInfo())
        api2.authorize_account(server.realm, key_id, secret)
        return api2
    api3 = v3.B2Api(v3.InMemoryAccountInfo())
    api3.authorize_account(key_id, secret, realm=server.realm)
    return api3


def unique(prefix: str = "conf") -> str:
    """Return a bucket name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def read(downloaded: Any) -> bytes:
    """Return the bytes of a b2sdk ``DownloadedFile``."""
    out = io.BytesIO()
    downloaded.save(out)
    return out.getvalue()


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api(version: str, b2_server: LocalB2) -> Any:
    return connect(version, b2_server)


@pytest.fixture
def bucket(api: Any) -> Any:
    return api.create_bucket(unique(), "allPrivate")


@pytest.fixture(scope="module")
def small_parts_server() -> Iterator[LocalB2]:
    with LocalB2(
        host="127.0.0.1", port=0, min_part_size=100_000, recommended_part_size=200_000
    ) as server:
        yield server


# -- authorization ---------------------------------------------------------------------------
def test_authorize_account(api: Any, version: str, b2_server: LocalB2) -> None:
    info = api.account_info
    raw = requests.get(
        f"{b2_server.realm}/b2api/v4/b2_authorize_account",
        auth=(b2_server.application_key_id, b2_server.application_key),
        timeout=10,
    ).json()
    assert info.get_account_id() == raw["accountId"] != ""
    assert info.get_application_key_id() == b2_server.application_key_id
    assert info.get_api_url() == b2_server.realm
    assert info.get_download_url() == b2_server.realm
    assert info.get_absolute_minimum_part_size() == 5_000_000
    assert info.get_recommended_part_size() == 100_000_000
    allowed = info.get_allowed()
    assert set(allowed["capabilities"]) == set(CAPABILITIES)
    assert allowed["namePrefix"] is None
    assert not allowed.get("buckets") and allowed.get("bucketId") is None
    bucket = api.create_bucket(unique(), "allPrivate")
    upload_url = api.session.get_upload_url(bucket.id_)["uploadUrl"]
    assert f"/b2api/{WIRE_VERSION[version]}/b2_upload_file/{bucket.id_}" in upload_url


def test_authorize_restricted_key(version: str, b2_server: LocalB2) -> None:
    name = unique()
    bucket_id = b2_server.create_bucket(name)
    key = b2_server.create_key(
        ["listBuckets", "listFiles", "readFiles"], bucket=name, name_prefix="docs/"
    )
    allowed = connect(version, b2_server, key).account_info.get_allowed()
    assert set(allowed["capabilities"]) == {"listBuckets", "listFiles", "readFiles"}
    assert allowed["namePrefix"] == "docs/"
    if version == "v2":  # /b2api/v3 answers with flat bucketId/bucketName
        assert (allowed["bucketId"], allowed["bucketName"]) == (bucket_id, name)
    else:  # /b2api/v4 answers with a list of buckets
        assert allowed["buckets"] == [{"id": bucket_id, "name": name}]


def test_part_sizes_of_a_tuned_server(version: str, small_parts_server: LocalB2) -> None:
    info = connect(version, small_parts_server).account_info
    assert info.get_absolute_minimum_part_size() == 100_000
    assert info.get_recommended_part_size() == 200_000


# -- buckets ---------------------------------------------------------------------------------
def test_bucket_life_cycle(api: Any) -> None:
    private_name, public_name = unique("priv"), unique("pub")
    private = api.create_bucket(private_name, "allPrivate", bucket_info={"team": "a"})
    public = api.create_bucket(public_name, "allPublic")
    assert (private.name, private.type_, private.bucket_info) == (
        private_name,
        "allPrivate",
        {"team": "a"},
    )
    assert (public.name, public.type_) == (public_name, "allPublic")
    listed = {b.name: b for b in api.list_buckets()}
    assert listed[private_name].id_ == private.id_
    assert listed[public_name].type_ == "allPublic"
    assert [b.id_ for b in api.list_buckets(bucket_name=public_name)] == [public.id_]
    assert api.get_bucket_by_name(private_name).id_ == private.id_

    updated = private.update(bucket_type="allPublic", bucket_info={"team": "b", "x": "1"})
    assert (updated.type_, updated.bucket_info) == ("allPublic", {"team": "b", "x": "1"})
    assert updated.revision == private.revision + 1
    fresh = api.list_buckets(bucket_name=private_name)[0]
    assert (fresh.type_, fresh.bucket_info) == ("allPublic", {"team": "b", "x": "1"})

    api.delete_bucket(private)
    api.delete_bucket(public)
    names = {b.name for b in api.list_buckets()}
    assert private_name not in names and public_name not in names
    with pytest.raises(NonExistentBucket):
        api.get_bucket_by_name(private_name)


def test_deleting_a_non_empty_bucket_fails(api: Any, bucket: Any) -> None:
    bucket.upload_bytes(b"x", "keep.txt")
    # b2sdk knows no exception class for this code: it warns, then raises BadRequest.
    with pytest.raises(BadRequest) as info, pytest.warns(UserWarning, match="unknown `code`"):
        api.delete_bucket(bucket)
    assert info.value.code == "cannot_delete_non_empty_bucket"
    assert [b.id_ for b in api.list_buckets(bucket_name=bucket.name)] == [bucket.id_]


# -- upload, download, file info ---------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_upload_bytes_and_download(api: Any, bucket: Any, name: str) -> None:
    info = {"color": "blue", "note": "ünï côdé ✓"}
    sha1 = hashlib.sha1(DATA).hexdigest()
    uploaded = bucket.upload_bytes(DATA, name, content_type="text/x-test", file_info=info)
    assert (uploaded.file_name, uploaded.size, uploaded.content_sha1) == (name, len(DATA), sha1)
    assert (uploaded.content_type, uploaded.file_info) == ("text/x-test", info)
    assert uploaded.action == "upload" and uploaded.upload_timestamp > 0

    for downloaded in (
        bucket.download_file_by_name(name),
        api.download_file_by_id(uploaded.id_),
    ):
        version = downloaded.download_version
        assert read(downloaded) == DATA
        assert (version.id_, version.file_name, version.size) == (uploaded.id_, name, len(DATA))
        assert (version.content_type, version.content_sha1) == ("text/x-test", sha1)
        assert version.file_info == info
        assert version.upload_timestamp == uploaded.upload_timestamp
        assert version.content_length == len(DATA)

    for downloaded in (
        bucket.download_file_by_name(name, range_=(3, 12)),
        api.download_file_by_id(uploaded.id_, range_=(3, 12)),
    ):
        assert read(downloaded) == DATA[3:13]
        version = downloaded.download_version
        assert (version.range_.start, version.range_.end) == (3, 12)
        assert (version.content_length, version.size) == (10, len(DATA))
    tail = bucket.download_file_by_name(name, range_=(len(DATA) - 1, len(DATA) - 1))
    assert read(tail) == DATA[-1:]

    by_id = bucket.get_file_info_by_id(uploaded.id_)
    assert (by_id.file_name, by_id.size, by_id.content_sha1) == (name, len(DATA), sha1)
    assert (by_id.content_type, by_id.file_info) == ("text/x-test", info)
    by_name = bucket.get_file_info_by_name(name)
    assert (by_name.id_, by_name.size, by_name.content_sha1) == (uploaded.id_, len(DATA), sha1)
    assert (by_name.content_type, by_name.file_info) == ("text/x-test", info)


def test_upload_local_file(bucket: Any, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(50_000)
    source.write_bytes(data)
    # b2sdk's sync sets this info key; a download then gives the local file that time.
    info = {"src_last_modified_millis": "1700000000000"}
    uploaded = bucket.upload_local_file(str(source), "local/source.bin", file_info=info)
    assert uploaded.size == len(data)
    assert uploaded.content_sha1 == hashlib.sha1(data).hexdigest()
    assert uploaded.file_info == info
    assert uploaded.content_type == "application/octet-stream"
    target = tmp_path / "target.bin"
    bucket.download_file_by_name("local/source.bin").save_to(str(target))
    assert target.read_bytes() == data
    assert int(target.stat().st_mtime) == 1_700_000_000


def test_large_file_in_parts(version: str, small_parts_server: LocalB2) -> None:
    api = connect(version, small_parts_server)
    bucket = api.create_bucket(unique("large"), "allPrivate")
    data = os.urandom(1_000_003)
    sha1 = hashlib.sha1(data).hexdigest()
    small_parts_server.reset_calls()
    uploaded = bucket.upload_bytes(data, "big/blob.bin", file_info={"kind": "big"})
    calls = small_parts_server.calls
    assert calls["b2_start_large_file"] == 1 and calls["b2_finish_large_file"] == 1
    assert calls["b2_upload_part"] >= 2 and calls["b2_upload_file"] == 0
    assert uploaded.size == len(data)
    assert uploaded.file_info["kind"] == "big"
    downloaded = bucket.download_file_by_name("big/blob.bin")
    body = read(downloaded)
    assert len(body) == len(data) and body == data
    assert hashlib.sha1(body).hexdigest() == sha1
    assert downloaded.download_version.content_sha1 in (sha1, "none")
    ranged = api.download_file_by_id(uploaded.id_, range_=(99_990, 300_009))
    assert read(ranged) == data[99_990:300_010]


# -- listing, hiding, deleting -------------------------------------------------------------
def test_listing(bucket: Any) -> None:
    for name in ("a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/d.txt", "e.txt"):
        bucket.upload_bytes(name.encode(), name)
    newest_a = bucket.upload_bytes(b"second", "a.txt")

    top = [(fv.file_name, folder) for fv, folder in bucket.ls()]
    assert [(n, f) for n, f in top if f is None] == [("a.txt", None), ("e.txt", None)]
    assert [f for _n, f in top if f is not None] == ["dir/"]
    inside = [(fv.file_name, folder) for fv, folder in bucket.ls("dir/")]
    assert [n for n, f in inside if f is None] == ["dir/b.txt", "dir/d.txt"]
    assert [f for _n, f in inside if f is not None] == ["dir/sub/"]

    everything = [fv.file_name for fv, _ in bucket.ls(recursive=True)]
    assert everything == ["a.txt", "dir/b.txt", "dir/d.txt", "dir/sub/c.txt", "e.txt"]
    latest = {fv.file_name: fv for fv, _ in bucket.ls(recursive=True)}
    assert latest["a.txt"].id_ == newest_a.id_
    versions = [fv.file_name for fv, _ in bucket.ls(latest_only=False, recursive=True)]
    assert versions == ["a.txt", "a.txt", "dir/b.txt", "dir/d.txt", "dir/sub/c.txt", "e.txt"]

    a_versions = list(bucket.list_file_versions("a.txt"))
    assert [fv.id_ for fv in a_versions][0] == newest_a.id_
    assert [fv.size for fv in a_versions] == [len(b"second"), len(b"a.txt")]
    assert [fv.file_name for fv in bucket.list_file_versions("dir/b.txt")] == ["dir/b.txt"]


def test_hide_then_delete_every_version(api: Any, bucket: Any) -> None:
    old = bucket.upload_bytes(b"old", "doc.txt")
    new = bucket.upload_bytes(b"new", "doc.txt")
    marker = bucket.hide_file("doc.txt")
    assert (marker.action, marker.file_name, marker.size) == ("hide", "doc.txt", 0)

    assert list(bucket.ls(recursive=True)) == []
    versions = list(bucket.list_file_versions("doc.txt"))
    assert [(fv.action, fv.id_) for fv in versions] == [
        ("hide", marker.id_),
        ("upload", new.id_),
        ("upload", old.id_),
    ]
    with pytest.raises(FileNotPresent):
        read(bucket.download_file_by_name("doc.txt"))
    with pytest.raises(FileNotPresent):
        bucket.get_file_info_by_name("doc.txt")
    assert read(api.download_file_by_id(old.id_)) == b"old"

    for fv in versions:
        deleted = bucket.delete_file_version(fv.id_, fv.file_name)
        assert (deleted.file_id, deleted.file_name) == (fv.id_, "doc.txt")
    assert list(bucket.list_file_versions("doc.txt")) == []
    assert list(bucket.ls(latest_only=False, recursive=True)) == []
    with pytest.raises(FileNotPresent):
        bucket.get_file_info_by_id(old.id_)
    api.delete_bucket(bucket)


# -- download authorization ------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_download_authorization(api: Any, bucket: Any, b2_server: LocalB2, name: str) -> None:
    shared, other = f"shared/{name}", f"other/{name}"
    bucket.upload_bytes(b"shared bytes", shared)
    bucket.upload_bytes(b"other bytes", other)
    token = bucket.get_download_authorization("shared/", 60)
    url, other_url = bucket.get_download_url(shared), bucket.get_download_url(other)
    assert url.startswith(f"{b2_server.realm}/file/{bucket.name}/shared/")

    allowed = requests.get(url, params={"Authorization": token}, timeout=10)
    assert (allowed.status_code, allowed.content) == (200, b"shared bytes")
    assert allowed.headers["x-bz-content-sha1"] == hashlib.sha1(b"shared bytes").hexdigest()
    refused = requests.get(other_url, params={"Authorization": token}, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthorized"
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401


def test_public_bucket_needs_no_token(api: Any) -> None:
    public = api.create_bucket(unique("pub"), "allPublic")
    public.upload_bytes(b"for everyone", NAMES[1])
    response = requests.get(public.get_download_url(NAMES[1]), timeout=10)
    assert (response.status_code, response.content) == (200, b"for everyone")


# -- tokens and re-authorization -------------------------------------------------------------
def test_expired_tokens_make_b2sdk_reauthorize(api: Any, bucket: Any, b2_server: LocalB2) -> None:
    bucket.upload_bytes(b"before", "before.txt")
    assert b2_server.calls["b2_authorize_account"] == 1
    b2_server.expire_tokens()
    assert [fv.file_name for fv, _ in bucket.ls()] == ["before.txt"]
    assert b2_server.calls["b2_authorize_account"] == 2
    bucket.upload_bytes(b"after", "after.txt")
    assert read(bucket.download_file_by_name("after.txt")) == b"after"
    assert b2_server.calls["b2_authorize_account"] == 2


def test_token_lifetime_runs_out(version: str) -> None:
    with freeze_time("2031-05-01 12:00:00") as frozen, LocalB2(token_lifetime=60) as server:
        api = connect(version, server)
        bucket = api.create_bucket(unique(), "allPrivate")
        frozen.tick(59)
        assert api.list_buckets(bucket_name=bucket.name)[0].id_ == bucket.id_
        assert server.calls["b2_authorize_account"] == 1
        frozen.tick(2)
        assert api.list_buckets(bucket_name=bucket.name)[0].id_ == bucket.id_
        assert server.calls["b2_authorize_account"] == 2


# -- retries ---------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [503, 429])
def test_listing_survives_refusals(bucket: Any, b2_server: LocalB2, status: int) -> None:
    bucket.upload_bytes(b"x", "only.txt")
    b2_server.reset_calls()
    b2_server.fail_next("b2_list_file_names", 2, status=status, retry_after=0)
    assert [fv.file_name for fv, _ in bucket.ls()] == ["only.txt"]
    assert b2_server.calls["b2_list_file_names"] == 3


def test_upload_survives_a_dropped_connection(bucket: Any, b2_server: LocalB2) -> None:
    b2_server.drop_next("b2_get_upload_url")
    uploaded = bucket.upload_bytes(b"made it", "dropped.txt")
    assert b2_server.calls["b2_get_upload_url"] == 2
    assert read(bucket.download_file_by_name("dropped.txt")) == b"made it"
    assert uploaded.file_name == "dropped.txt"


# -- HTTP/1.1 keep-alive (b2sdk reuses connections) ------------------------------------------
@pytest.mark.parametrize("wire", ["v3", "v4"])
@pytest.mark.parametrize(
    ("first", "status"),
    [("authorize", 200), ("injected_fault", 503), ("unknown_endpoint", 501)],
)
def test_connection_is_reusable_after(
    b2_server: LocalB2, wire: str, first: str, status: int
) -> None:
    base = f"{b2_server.realm}/b2api/{wire}"
    key = (b2_server.application_key_id, b2_server.application_key)
    with requests.Session() as session:
        authorized = (session if first == "authorize" else requests).post(
            f"{base}/b2_authorize_account", json={}, auth=key, timeout=10
        )
        headers = {"Authorization": authorized.json()["authorizationToken"]}
        body = {"accountId": authorized.json()["accountId"]}
        answer = authorized
        if first == "injected_fault":
            b2_server.fail_next("b2_list_buckets", 1, status=503, retry_after=0)
            answer = session.post(f"{base}/b2_list_buckets", json=body, headers=headers, timeout=10)
        elif first == "unknown_endpoint":
            answer = session.post(f"{base}/b2_no_such_api", json=body, headers=headers, timeout=10)
        assert answer.status_code == status
        # The same connection must carry the next call: the first body must not linger.
        listed = session.post(f"{base}/b2_list_buckets", json=body, headers=headers, timeout=10)
    assert listed.status_code == 200, listed.text[:200]
    assert "buckets" in listed.json()
