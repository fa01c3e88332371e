"""A key limited to a name prefix can do nothing outside it (as on B2)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest
import requests
from b2sdk.v2 import B2Api, InMemoryAccountInfo
from b2sdk.v2.exception import MaxRetriesExceeded, Unauthorized

from b2_storage.emulator import LocalB2

from .rawb2 import RawB2, assert_b2_error, sha1_hex

CAPS = ["listBuckets", "listFiles", "readFiles", "shareFiles", "writeFiles", "deleteFiles"]


@pytest.fixture
def bucket_name(b2_server: LocalB2) -> str:
    name = f"prefix-key-{uuid.uuid4().hex[:12]}"
    b2_server.create_bucket(name)
    owner = B2Api(InMemoryAccountInfo())
    server = b2_server
    owner.authorize_account(server.realm, server.application_key_id, server.application_key)
    owner.get_bucket_by_name(name).upload_bytes(b"secret", "private/x.txt")
    return name


@pytest.fixture
def limited(b2_server: LocalB2, bucket_name: str) -> B2Api:
    key_id, key = b2_server.create_key(CAPS, bucket=bucket_name, name_prefix="public/")
    api = B2Api(InMemoryAccountInfo())
    api.authorize_account(b2_server.realm, key_id, key)
    return api


def test_inside_the_prefix_works(limited: B2Api, bucket_name: str) -> None:
    bucket = limited.get_bucket_by_name(bucket_name)
    bucket.upload_bytes(b"ok", "public/a.txt")
    assert [v.file_name for v, _ in bucket.ls("public/")] == ["public/a.txt"]
    assert bucket.get_download_authorization("public/", 60)


@pytest.mark.parametrize(
    "action",
    ["share everything", "share private", "list private", "upload private", "hide private"],
)
def test_outside_the_prefix_is_refused(limited: B2Api, bucket_name: str, action: str) -> None:
    bucket = limited.get_bucket_by_name(bucket_name)
    # b2sdk retries an upload, then reports MaxRetriesExceeded around the 401.
    with pytest.raises((Unauthorized, MaxRetriesExceeded)):
        if action == "share everything":
            bucket.get_download_authorization("", 60)
        elif action == "share private":
            bucket.get_download_authorization("private/", 60)
        elif action == "list private":
            list(bucket.ls("private/"))
        elif action == "upload private":
            bucket.upload_bytes(b"no", "private/y.txt")
        else:
            bucket.hide_file("private/x.txt")


def test_raw_upload_outside_the_prefix_is_refused(limited: B2Api, bucket_name: str) -> None:
    bucket = limited.get_bucket_by_name(bucket_name)
    info = limited.session.get_upload_url(bucket.id_)
    body = b"raw"
    response = requests.post(
        info["uploadUrl"],
        data=body,
        timeout=10,
        headers={
            "Authorization": info["authorizationToken"],
            "X-Bz-File-Name": "private/z.txt",
            "Content-Type": "text/plain",
            "X-Bz-Content-Sha1": hashlib.sha1(body).hexdigest(),
        },
    )
    assert response.status_code == 401


# -- large files, file info and listings, over raw HTTP ------------------------------------
@pytest.fixture
def owner_and_limited(b2_server: LocalB2, bucket_name: str) -> Iterator[tuple[RawB2, RawB2]]:
    key_id, key = b2_server.create_key(CAPS, bucket=bucket_name, name_prefix="public/")
    with RawB2.of(b2_server) as owner, RawB2(b2_server.realm, key_id, key) as limited:
        yield owner, limited


def bucket_id_of(raw: RawB2, name: str) -> str:
    bucket_id: str = raw.ok("b2_list_buckets", bucketName=name)["buckets"][0]["bucketId"]
    return bucket_id


def test_file_info_outside_the_prefix_is_refused(
    owner_and_limited: tuple[RawB2, RawB2], bucket_name: str
) -> None:
    owner, limited = owner_and_limited
    bucket_id = bucket_id_of(owner, bucket_name)
    private = owner.ok("b2_list_file_names", bucketId=bucket_id)["files"][0]["fileId"]
    public = owner.upload_ok(bucket_id, "public/p.txt", b"public")["fileId"]
    assert_b2_error(limited.post("b2_get_file_info", {"fileId": private}), 401, "unauthorized")
    assert limited.ok("b2_get_file_info", fileId=public)["fileName"] == "public/p.txt"


def test_someone_elses_large_file_is_out_of_reach(
    owner_and_limited: tuple[RawB2, RawB2], bucket_name: str
) -> None:
    owner, limited = owner_and_limited
    bucket_id = bucket_id_of(owner, bucket_name)
    started = owner.ok(
        "b2_start_large_file",
        bucketId=bucket_id,
        fileName="private/big.bin",
        contentType="b2/x-auto",
    )
    file_id = started["fileId"]
    target = owner.ok("b2_get_upload_part_url", fileId=file_id)
    assert owner.upload_part((target["uploadUrl"], target["authorizationToken"]), 1, b"mine")
    for endpoint, body in [
        ("b2_get_upload_part_url", {"fileId": file_id}),
        ("b2_list_parts", {"fileId": file_id}),
        ("b2_finish_large_file", {"fileId": file_id, "partSha1Array": [sha1_hex(b"mine")]}),
        ("b2_cancel_large_file", {"fileId": file_id}),
        ("b2_list_unfinished_large_files", {"bucketId": bucket_id}),
        ("b2_list_unfinished_large_files", {"bucketId": bucket_id, "namePrefix": "private/"}),
    ]:
        assert_b2_error(limited.post(endpoint, body), 401, "unauthorized")
    inside = limited.ok("b2_list_unfinished_large_files", bucketId=bucket_id, namePrefix="public/")
    assert inside["files"] == []
    finished = owner.ok("b2_finish_large_file", fileId=file_id, partSha1Array=[sha1_hex(b"mine")])
    assert finished["contentLength"] == 4
    assert owner.download(bucket_name, "private/big.bin").content == b"mine"


def test_large_file_inside_the_prefix_works(
    owner_and_limited: tuple[RawB2, RawB2], bucket_name: str
) -> None:
    _owner, limited = owner_and_limited
    bucket_id = bucket_id_of(limited, bucket_name)
    started = limited.ok(
        "b2_start_large_file",
        bucketId=bucket_id,
        fileName="public/big.bin",
        contentType="b2/x-auto",
    )
    target = limited.ok("b2_get_upload_part_url", fileId=started["fileId"])
    part = limited.upload_part((target["uploadUrl"], target["authorizationToken"]), 1, b"ours")
    assert part.status_code == 200, part.text
    listed = limited.ok("b2_list_unfinished_large_files", bucketId=bucket_id, namePrefix="public/")
    assert [f["fileName"] for f in listed["files"]] == ["public/big.bin"]
    assert limited.ok("b2_list_parts", fileId=started["fileId"])["parts"][0]["partNumber"] == 1
    limited.ok("b2_finish_large_file", fileId=started["fileId"], partSha1Array=[sha1_hex(b"ours")])
