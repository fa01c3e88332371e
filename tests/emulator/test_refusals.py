"""What the local B2 server does not implement it refuses: 501 ``not_implemented`` naming the
feature, and nothing stored. Asking for a feature's "off" state is what the server does anyway,
so that is accepted. Raw HTTP first, then b2sdk, which must fail fast and clearly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from b2sdk import v3
from b2sdk.v3.exception import B2Error

from b2_storage.emulator import LocalB2
from b2_storage.emulator.keys import CAPABILITIES

from .rawb2 import API, TIMEOUT, RawB2, assert_b2_error, unique_bucket_name

DATA = b"refused features store nothing"


@pytest.fixture
def raw(b2_server: LocalB2) -> Iterator[RawB2]:
    with RawB2.of(b2_server) as client:
        yield client


def assert_refused(response: requests.Response, *words: str) -> None:
    assert_b2_error(response, 501, "not_implemented")
    message = response.json()["message"]
    assert message.startswith("The local B2 server does not implement"), message
    for word in words:
        assert word in message, message
    assert response.headers["Retry-After"] == "0"


@pytest.mark.parametrize(
    ("endpoint", "feature"),
    [
        ("b2_update_file_retention", "object lock"),
        ("b2_update_file_legal_hold", "object lock"),
        ("b2_set_bucket_notification_rules", "event notifications"),
        ("b2_get_bucket_notification_rules", "event notifications"),
        ("b2_no_such_call", "b2_no_such_call"),
    ],
)
def test_unimplemented_endpoints(raw: RawB2, endpoint: str, feature: str) -> None:
    assert_refused(raw.post(endpoint, {}), feature)


def test_unknown_api_version(b2_server: LocalB2) -> None:
    response = requests.get(
        f"{b2_server.realm}/b2api/v9/b2_authorize_account",
        auth=(b2_server.application_key_id, b2_server.application_key),
        timeout=TIMEOUT,
    )
    assert_refused(response, "v9")


BUCKET_FEATURES = {
    "fileLockEnabled": (True, "object lock"),
    "defaultServerSideEncryption": ({"mode": "SSE-B2", "algorithm": "AES256"}, "encryption"),
    "defaultRetention": (
        {"mode": "governance", "period": {"duration": 1, "unit": "days"}},
        "object lock",
    ),
    "replicationConfiguration": (
        {"asReplicationSource": {"replicationRules": [{"x": 1}]}},
        "replication",
    ),
    "corsRules": (
        [
            {
                "corsRuleName": "all",
                "allowedOrigins": ["*"],
                "allowedOperations": ["b2_download_file_by_name"],
                "maxAgeSeconds": 60,
            }
        ],
        "CORS",
    ),
    "lifecycleRules": ([{"fileNamePrefix": "", "daysFromHidingToDeleting": 1}], "lifecycle"),
}
BUCKET_OFF = {
    "fileLockEnabled": False,
    "defaultServerSideEncryption": {"mode": "none"},
    "replicationConfiguration": None,
    "corsRules": [],
    "lifecycleRules": [],
}


@pytest.mark.parametrize("param", BUCKET_FEATURES)
def test_bucket_features_are_refused(raw: RawB2, param: str) -> None:
    value, feature = BUCKET_FEATURES[param]
    name = unique_bucket_name()
    body = {"accountId": raw.auth["accountId"], "bucketName": name, "bucketType": "allPrivate"}
    assert_refused(raw.post("b2_create_bucket", {**body, param: value}), feature, param)
    assert raw.ok("b2_list_buckets", bucketName=name)["buckets"] == []
    _name, bucket_id = raw.bucket()
    update = {"accountId": raw.auth["accountId"], "bucketId": bucket_id, param: value}
    assert_refused(raw.post("b2_update_bucket", update), feature)
    assert raw.ok("b2_list_buckets", bucketId=bucket_id)["buckets"][0]["revision"] == 1


def test_bucket_features_off_are_accepted(raw: RawB2) -> None:
    body = {
        "accountId": raw.auth["accountId"],
        "bucketName": unique_bucket_name(),
        "bucketType": "allPrivate",
        **BUCKET_OFF,
    }
    created = raw.ok("b2_create_bucket", **body)
    assert created["fileLockConfiguration"]["value"]["isFileLockEnabled"] is False
    raw.ok("b2_update_bucket", bucketId=created["bucketId"], **BUCKET_OFF)


UPLOAD_HEADERS = {
    "sse-b2": ({"X-Bz-Server-Side-Encryption": "AES256"}, "SSE-B2"),
    "sse-c": (
        {
            "X-Bz-Server-Side-Encryption-Customer-Algorithm": "AES256",
            "X-Bz-Server-Side-Encryption-Customer-Key": "a2V5" * 11,
            "X-Bz-Server-Side-Encryption-Customer-Key-Md5": "bWQ1",
        },
        "SSE-C",
    ),
    "retention": (
        {
            "X-Bz-File-Retention-Mode": "governance",
            "X-Bz-File-Retention-Retain-Until-Timestamp": "4102444800000",
        },
        "object lock",
    ),
    "legal-hold": ({"X-Bz-File-Legal-Hold": "on"}, "object lock"),
}


@pytest.mark.parametrize("feature", UPLOAD_HEADERS)
def test_upload_features_are_refused(raw: RawB2, feature: str) -> None:
    headers, word = UPLOAD_HEADERS[feature]
    name, bucket_id = raw.bucket()
    url, token = raw.upload_target(bucket_id)
    response = raw.upload(bucket_id, "x.txt", DATA, target=(url, token), extra=headers)
    assert_refused(response, word)
    assert raw.versions(bucket_id) == []
    started = raw.ok(
        "b2_start_large_file", bucketId=bucket_id, fileName="big.bin", contentType="b2/x-auto"
    )
    target = raw.ok("b2_get_upload_part_url", fileId=started["fileId"])
    part = raw.upload_part(
        (target["uploadUrl"], target["authorizationToken"]), 1, DATA, extra=headers
    )
    assert_refused(part, word)
    assert raw.ok("b2_list_parts", fileId=started["fileId"])["parts"] == []
    raw.upload_ok(bucket_id, "plain.txt", DATA)
    assert_refused(raw.download(name, "plain.txt", headers=headers), word)


def test_upload_with_legal_hold_off_is_accepted(raw: RawB2) -> None:
    _name, bucket_id = raw.bucket()
    response = raw.upload(bucket_id, "x.txt", DATA, extra={"X-Bz-File-Legal-Hold": "off"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("param", "value", "word"),
    [
        ("serverSideEncryption", {"mode": "SSE-B2", "algorithm": "AES256"}, "SSE-B2"),
        (
            "serverSideEncryption",
            {
                "mode": "SSE-C",
                "algorithm": "AES256",
                "customerKey": "a2V5",
                "customerKeyMd5": "bWQ1",
            },
            "SSE-C",
        ),
        (
            "fileRetention",
            {"mode": "compliance", "retainUntilTimestamp": 4102444800000},
            "object lock",
        ),
        ("legalHold", "on", "object lock"),
    ],
)
def test_large_file_features_are_refused(raw: RawB2, param: str, value: Any, word: str) -> None:
    _name, bucket_id = raw.bucket()
    body = {"bucketId": bucket_id, "fileName": "big.bin", "contentType": "b2/x-auto", param: value}
    assert_refused(raw.post("b2_start_large_file", body), word)
    listed = raw.ok("b2_list_unfinished_large_files", bucketId=bucket_id)
    assert listed["files"] == []


def test_custom_upload_timestamp_is_kept(raw: RawB2) -> None:
    _name, bucket_id = raw.bucket()
    stamp = "1500000000123"
    uploaded = raw.upload_ok(
        bucket_id, "old.txt", DATA, extra={"X-Bz-Custom-Upload-Timestamp": stamp}
    )
    assert uploaded["uploadTimestamp"] == int(stamp)
    assert raw.versions(bucket_id)[0]["uploadTimestamp"] == int(stamp)


def test_master_key_advertises_what_works(raw: RawB2) -> None:
    allowed = raw.auth["apiInfo"]["storageApi"]["allowed"]
    assert sorted(allowed["capabilities"]) == sorted(CAPABILITIES)
    for refused in ("writeFileLegalHolds", "writeBucketEncryption", "bypassGovernance"):
        assert refused not in allowed["capabilities"]


# -- b2sdk fails fast and says why ---------------------------------------------------------
@pytest.fixture
def api(b2_server: LocalB2) -> Any:
    b2 = v3.B2Api(v3.InMemoryAccountInfo())
    b2.authorize_account(
        b2_server.application_key_id, b2_server.application_key, realm=b2_server.realm
    )
    return b2


def test_b2sdk_sse_b2_upload_is_refused(api: Any) -> None:
    bucket = api.create_bucket(f"refuse-{uuid.uuid4().hex[:12]}", "allPrivate")
    sse_b2 = v3.EncryptionSetting(
        mode=v3.EncryptionMode.SSE_B2, algorithm=v3.EncryptionAlgorithm.AES256
    )
    with pytest.raises(B2Error, match="not_implemented"):
        bucket.upload_bytes(DATA, "secret.txt", encryption=sse_b2)
    assert list(bucket.ls(latest_only=False)) == []


def test_b2sdk_file_lock_bucket_is_refused(api: Any) -> None:
    name = f"refuse-{uuid.uuid4().hex[:12]}"
    with pytest.raises(B2Error, match="object lock"):
        api.create_bucket(name, "allPrivate", is_file_lock_enabled=True)
    assert name not in [b.name for b in api.list_buckets()]


def test_refusals_do_not_reach_the_api_version_path(b2_server: LocalB2) -> None:
    """``/b2api/`` with no endpoint is nothing at all: 404, as any unknown path."""
    response = requests.get(f"{b2_server.realm}/b2api/{API.split('/')[1]}", timeout=TIMEOUT)
    assert_b2_error(response, 404, "not_found")
