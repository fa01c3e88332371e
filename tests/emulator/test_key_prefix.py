"""A key limited to a name prefix can do nothing outside it (as on B2)."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import requests
from b2sdk.v2 import B2Api, InMemoryAccountInfo
from b2sdk.v2.exception import MaxRetriesExceeded, Unauthorized

from b2_storage.emulator import LocalB2

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
        info["uploadUrl"], data=body, timeout=10,
        headers={"Authorization": info["authorizationToken"], "X-Bz-File-Name": "private/z.txt",
                 "Content-Type": "text/plain", "X-Bz-Content-Sha1": hashlib.sha1(body).hexdigest()},
    )  # fmt: skip
    assert response.status_code == 401
