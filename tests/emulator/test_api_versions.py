"""Every API version the local B2 server speaks (``/b2api/v1`` to ``/b2api/v4``): each version's
shape of b2_authorize_account and of file versions, and one life cycle on the same engine.
rclone and restic speak v1 (see test_rclone.py and test_restic.py); b2sdk v3 and v4.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from b2_storage.emulator import LocalB2

from .rawb2 import RawB2, assert_b2_error, authorize, sha1_hex, unique_bucket_name

VERSIONS = ("v1", "v2", "v3", "v4")
DATA = b"one engine, four API versions"


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def raw(b2_server: LocalB2, version: str) -> Iterator[RawB2]:
    server = b2_server
    with RawB2(
        server.realm, server.application_key_id, server.application_key, api=f"b2api/{version}"
    ) as client:
        yield client


FLAT = {
    "accountId",
    "authorizationToken",
    "allowed",
    "apiUrl",
    "downloadUrl",
    "recommendedPartSize",
    "absoluteMinimumPartSize",
    "s3ApiUrl",
}


def test_authorize_shape(b2_server: LocalB2, raw: RawB2, version: str) -> None:
    auth = raw.auth
    if version in ("v1", "v2"):
        expected = FLAT | ({"minimumPartSize"} if version == "v1" else set())
        assert set(auth) == expected
        assert set(auth["allowed"]) == {"capabilities", "bucketId", "bucketName", "namePrefix"}
        assert auth["allowed"]["bucketId"] is None
        assert auth["apiUrl"] == auth["downloadUrl"] == b2_server.realm
        if version == "v1":
            assert auth["minimumPartSize"] == auth["recommendedPartSize"]
    else:
        storage = auth["apiInfo"]["storageApi"]
        assert storage["apiUrl"] == b2_server.realm
        assert ("allowed" in storage) == (version == "v4")


@pytest.mark.parametrize("old", ["v1", "v2"])
def test_restricted_key_on_old_versions(b2_server: LocalB2, old: str) -> None:
    name = unique_bucket_name("old")
    bucket_id = b2_server.create_bucket(name)
    key_id, key = b2_server.create_key(["listBuckets", "listFiles"], bucket=name, name_prefix="in/")
    with RawB2(b2_server.realm, key_id, key, api=f"b2api/{old}") as limited:
        allowed = limited.auth["allowed"]
        assert (allowed["bucketId"], allowed["bucketName"]) == (bucket_id, name)
        assert allowed["namePrefix"] == "in/"
        assert allowed["capabilities"] == ["listBuckets", "listFiles"]
        assert limited.ok("b2_list_buckets", bucketName=name)["buckets"][0]["bucketId"] == bucket_id


def test_file_shape(raw: RawB2, version: str) -> None:
    _name, bucket_id = raw.bucket()
    uploaded = raw.upload_ok(bucket_id, "dir/a.txt", DATA)
    listed = raw.ok("b2_list_file_names", bucketId=bucket_id, delimiter="/")["files"]
    versions = raw.ok("b2_list_file_versions", bucketId=bucket_id)["files"]
    for entry in (uploaded, versions[0]):
        assert entry["contentLength"] == len(DATA)
        assert entry["contentSha1"] == sha1_hex(DATA)
        assert ("size" in entry) == (version == "v1")
        if version == "v1":
            assert entry["size"] == len(DATA)
    assert listed[0]["action"] == "folder" and listed[0]["fileName"] == "dir/"


def test_life_cycle(raw: RawB2, version: str) -> None:
    """Upload, large file, list, download by id and name, copy, hide, delete: any version."""
    name, bucket_id = raw.bucket()
    url, _token = raw.upload_target(bucket_id)
    assert f"/b2api/{version}/b2_upload_file/" in url
    small = raw.upload_ok(bucket_id, "small.txt", DATA)
    started = raw.ok(
        "b2_start_large_file", bucketId=bucket_id, fileName="large.bin", contentType="b2/x-auto"
    )
    part = raw.ok("b2_get_upload_part_url", fileId=started["fileId"])
    assert f"/b2api/{version}/b2_upload_part/" in part["uploadUrl"]
    assert raw.upload_part((part["uploadUrl"], part["authorizationToken"]), 1, DATA).ok
    raw.ok("b2_finish_large_file", fileId=started["fileId"], partSha1Array=[sha1_hex(DATA)])
    copied = raw.ok("b2_copy_file", sourceFileId=small["fileId"], fileName="copy.txt")
    assert raw.names(bucket_id) == ["copy.txt", "large.bin", "small.txt"]
    by_id = raw.session.get(
        f"{raw.download_url}/b2api/{version}/b2_download_file_by_id",
        params={"fileId": copied["fileId"]},
        headers={"Authorization": raw.token},
        timeout=30,
    )
    assert by_id.content == DATA
    assert raw.download(name, "large.bin").content == DATA
    hidden = raw.ok("b2_hide_file", bucketId=bucket_id, fileName="small.txt")
    assert hidden["action"] == "hide"
    raw.ok("b2_delete_file_version", fileName="small.txt", fileId=small["fileId"])
    assert raw.names(bucket_id) == ["copy.txt", "large.bin"]


def test_multi_bucket_keys_need_v4(b2_server: LocalB2, version: str) -> None:
    with RawB2.of(b2_server) as v4:
        first, second = v4.bucket()[1], v4.bucket()[1]
        created = v4.ok(
            "b2_create_key", capabilities=["listFiles"], keyName="two", bucketIds=[first, second]
        )
    key = (created["applicationKeyId"], created["applicationKey"])
    response = authorize(b2_server.realm, *key, api=f"b2api/{version}")
    if version == "v4":
        assert response.status_code == 200
    else:
        assert_b2_error(response, 401, "unauthorized")


def test_unknown_fields_in_version_answers(raw: RawB2) -> None:
    """Answers stay JSON objects with B2's error shape in every version."""
    assert_b2_error(raw.post("b2_get_file_info", {"fileId": "4_nothing"}), 404, "not_found")
    assert_b2_error(raw.post("b2_update_file_legal_hold", {}), 501, "not_implemented")
