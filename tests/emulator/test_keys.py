"""Application keys: b2_create_key, b2_list_keys and b2_delete_key with B2's rules, and the new
keys' capabilities, buckets, name prefix and expiry enforced. Raw HTTP on ``/b2api/v3`` (one
``bucketId``) and ``/b2api/v4`` (``bucketIds``), then b2sdk's own key calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from b2_storage.emulator import LocalB2
from b2_storage.emulator.keys import CAPABILITIES

from .rawb2 import RawB2, assert_b2_error, authorize, unique_bucket_name
from .test_b2sdk_conformance import connect

FILE_CAPS = ["listBuckets", "listFiles", "readFiles", "writeFiles"]


class Raw(RawB2):
    """RawB2 on one API version (``v3`` or ``v4``), authorized there too."""

    def __init__(self, realm: str, key_id: str, key: str, version: str = "v4") -> None:
        super().__init__(realm, key_id, key, api=f"b2api/{version}")


@pytest.fixture(params=["v3", "v4"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def master(b2_server: LocalB2, version: str) -> Iterator[Raw]:
    with Raw(
        b2_server.realm, b2_server.application_key_id, b2_server.application_key, version
    ) as raw:
        yield raw


def restriction(version: str, bucket_id: str | None) -> dict[str, Any]:
    if version == "v4":
        return {"bucketIds": None if bucket_id is None else [bucket_id]}
    return {"bucketId": bucket_id}


def new_key(master: Raw, caps: list[str], **options: Any) -> dict[str, Any]:
    body = {
        "accountId": master.auth["accountId"],
        "capabilities": caps,
        "keyName": "test-key",
        **options,
    }
    return master.ok("b2_create_key", **body)


def test_create_list_delete(b2_server: LocalB2, master: Raw, version: str) -> None:
    name, bucket_id = master.bucket()
    created = new_key(master, FILE_CAPS, namePrefix="in/", **restriction(version, bucket_id))
    assert created["applicationKey"] and created["applicationKeyId"]
    assert created["capabilities"] == FILE_CAPS
    assert created["namePrefix"] == "in/"
    assert created["expirationTimestamp"] is None
    assert {k: v for k, v in created.items() if k.startswith("bucketId")} == restriction(
        version, bucket_id
    )
    listed = master.ok("b2_list_keys", accountId=master.auth["accountId"], maxKeyCount=10000)
    ours = [k for k in listed["keys"] if k["applicationKeyId"] == created["applicationKeyId"]]
    assert len(ours) == 1 and "applicationKey" not in ours[0]
    assert b2_server.application_key_id not in [k["applicationKeyId"] for k in listed["keys"]]
    with Raw(
        b2_server.realm, created["applicationKeyId"], created["applicationKey"], version
    ) as limited:
        assert limited.upload_ok(bucket_id, "in/a.txt", b"a")["fileName"] == "in/a.txt"
        assert_b2_error(limited.upload(bucket_id, "out/b.txt", b"b"), 401)
        assert_b2_error(limited.post("b2_list_file_names", {"bucketId": master.bucket()[1]}), 401)
        deleted = master.ok("b2_delete_key", applicationKeyId=created["applicationKeyId"])
        assert deleted["applicationKeyId"] == created["applicationKeyId"]
        assert_b2_error(limited.post("b2_list_buckets", {"bucketName": name}), 401)
    again = master.ok("b2_list_keys", accountId=master.auth["accountId"], maxKeyCount=10000)
    assert created["applicationKeyId"] not in [k["applicationKeyId"] for k in again["keys"]]


def test_list_keys_pages(master: Raw) -> None:
    ids = sorted(new_key(master, ["listFiles"])["applicationKeyId"] for _ in range(3))
    seen: list[str] = []
    start: str | None = ids[0]
    while start is not None and start <= ids[-1]:
        page = master.ok("b2_list_keys", maxKeyCount=1, startApplicationKeyId=start)
        assert len(page["keys"]) == 1
        seen += [k["applicationKeyId"] for k in page["keys"]]
        start = page["nextApplicationKeyId"]
    assert [key_id for key_id in seen if key_id in ids] == ids  # other tests' keys interleave


@pytest.mark.parametrize(
    ("options", "status", "code"),
    [
        ({"keyName": "has space"}, 400, "bad_request"),
        ({"keyName": "x" * 101}, 400, "bad_request"),
        ({"validDurationInSeconds": 0}, 400, "bad_request"),
        ({"validDurationInSeconds": 1000 * 86400}, 400, "bad_request"),
        ({"capabilities": ["readFiles", "flyToTheMoon"]}, 400, "bad_request"),
        ({"capabilities": []}, 400, "bad_request"),
        ({"capabilities": ["readFiles", "writeFileLegalHolds"]}, 501, "not_implemented"),
        ({"capabilities": ["readBucketEncryption"]}, 501, "not_implemented"),
        ({"capabilities": ["writeKeys", "listFiles"], "restricted": True}, 400, "bad_request"),
        ({"unknown_bucket": True}, 400, "bad_bucket_id"),
    ],
)
def test_b2_rules_for_new_keys(
    master: Raw, version: str, options: dict[str, Any], status: int, code: str
) -> None:
    body: dict[str, Any] = {"capabilities": ["listFiles"], "keyName": "ok-name"}
    options = dict(options)  # parametrized values are shared between versions
    if options.pop("restricted", False):
        body.update(restriction(version, master.bucket()[1]))
    if options.pop("unknown_bucket", False):
        body.update(restriction(version, "0123456789abcdef01234567"))
    response = master.post("b2_create_key", {**body, **options})
    assert_b2_error(response, status, code)


def test_refused_capabilities_are_named(master: Raw) -> None:
    response = master.post("b2_create_key", {"keyName": "k", "capabilities": ["bypassGovernance"]})
    assert_b2_error(response, 501, "not_implemented")
    assert "bypassGovernance" in response.json()["message"]
    assert "object lock" in response.json()["message"]


@pytest.mark.parametrize(
    ("caps", "endpoint"),
    [
        (["listKeys", "deleteKeys"], "b2_create_key"),
        (["writeKeys", "deleteKeys"], "b2_list_keys"),
        (["writeKeys", "listKeys"], "b2_delete_key"),
    ],
)
def test_key_endpoints_need_their_capability(
    b2_server: LocalB2, version: str, caps: list[str], endpoint: str
) -> None:
    key_id, key = b2_server.create_key(caps)
    body = {"capabilities": ["listFiles"], "keyName": "k", "applicationKeyId": key_id}
    with Raw(b2_server.realm, key_id, key, version) as raw:
        assert_b2_error(raw.post(endpoint, body), 401, "unauthorized")


def test_a_key_grants_no_more_than_it_has(b2_server: LocalB2, version: str) -> None:
    key_id, key = b2_server.create_key(["writeKeys", "listFiles"], name_prefix="mine/")
    with Raw(b2_server.realm, key_id, key, version) as raw:
        wider = [
            {"capabilities": ["listFiles", "deleteFiles"], "namePrefix": "mine/"},
            {"capabilities": ["listFiles"]},
            {"capabilities": ["listFiles"], "namePrefix": "other/"},
        ]
        for body in wider:
            assert_b2_error(raw.post("b2_create_key", {"keyName": "k", **body}), 401)
        narrower = {"keyName": "k", "capabilities": ["listFiles"], "namePrefix": "mine/sub/"}
        assert raw.ok("b2_create_key", **narrower)["namePrefix"] == "mine/sub/"


def test_master_key_cannot_be_deleted(b2_server: LocalB2, master: Raw) -> None:
    response = master.post("b2_delete_key", {"applicationKeyId": b2_server.application_key_id})
    assert_b2_error(response, 400, "bad_request")
    assert master.ok("b2_list_buckets")["buckets"] is not None


def test_keys_expire(b2_server: LocalB2, master: Raw, version: str) -> None:
    created = new_key(master, ["listBuckets"], validDurationInSeconds=60)
    assert created["expirationTimestamp"] is not None
    key = (created["applicationKeyId"], created["applicationKey"])
    with Raw(b2_server.realm, *key, version) as early:
        assert early.auth["applicationKeyExpirationTimestamp"] == created["expirationTimestamp"]
        with freeze_time(datetime.now(timezone.utc) + timedelta(seconds=61)):
            assert_b2_error(early.post("b2_list_buckets", {}), 401, "expired_auth_token")
            with pytest.raises(AssertionError):
                Raw(b2_server.realm, *key, version)
            listed = master.ok("b2_list_keys", maxKeyCount=10000)["keys"]
            assert key[0] not in [k["applicationKeyId"] for k in listed]


def test_multi_bucket_keys_are_v4_only(b2_server: LocalB2) -> None:
    with Raw(b2_server.realm, b2_server.application_key_id, b2_server.application_key) as v4:
        (first, first_id), (second, second_id), (_, third_id) = (v4.bucket() for _ in range(3))
        created = new_key(v4, FILE_CAPS, bucketIds=[first_id, second_id])
        key = (created["applicationKeyId"], created["applicationKey"])
        with Raw(b2_server.realm, *key) as limited:
            allowed = limited.auth["apiInfo"]["storageApi"]["allowed"]
            assert {b["id"] for b in allowed["buckets"]} == {first_id, second_id}
            assert {b["name"] for b in allowed["buckets"]} == {first, second}
            for bucket_id in (first_id, second_id):
                limited.upload_ok(bucket_id, "x.txt", b"x")
            assert_b2_error(limited.post("b2_get_upload_url", {"bucketId": third_id}), 401)
            listed = limited.ok("b2_list_buckets")["buckets"]
            assert {b["bucketId"] for b in listed} == {first_id, second_id}
        with pytest.raises(AssertionError):
            Raw(b2_server.realm, *key, "v3")
        with Raw(
            b2_server.realm, b2_server.application_key_id, b2_server.application_key, "v3"
        ) as v3raw:
            listed = v3raw.ok("b2_list_keys", maxKeyCount=10000)["keys"]
            assert key[0] not in [k["applicationKeyId"] for k in listed]
            assert_b2_error(v3raw.post("b2_delete_key", {"applicationKeyId": key[0]}), 400)
        v4.ok("b2_delete_key", applicationKeyId=key[0])


# -- b2sdk ---------------------------------------------------------------------------------
@pytest.mark.parametrize("interface", ["v2", "v3"])
def test_b2sdk_key_life_cycle(b2_server: LocalB2, interface: str) -> None:
    api = connect(interface, b2_server)
    bucket = api.create_bucket(unique_bucket_name("keys"), "allPrivate")
    restrict = {"bucket_id": bucket.id_} if interface == "v2" else {"bucket_ids": [bucket.id_]}
    created = api.create_key(
        capabilities=FILE_CAPS,
        key_name=f"k-{uuid.uuid4().hex[:8]}",
        name_prefix="docs/",
        **restrict,
    )
    assert created.application_key and created.name_prefix == "docs/"
    limited = connect(interface, b2_server, (created.id_, created.application_key))
    own = limited.get_bucket_by_name(bucket.name)
    own.upload_bytes(b"doc", "docs/a.txt")
    assert [v.file_name for v, _ in own.ls("docs/")] == ["docs/a.txt"]
    assert created.id_ in [k.id_ for k in api.list_keys()]
    api.delete_key(created)
    assert created.id_ not in [k.id_ for k in api.list_keys()]


def test_a_given_master_key_replaces_the_stored_one(tmp_path: Path) -> None:
    """``--key-id``/``--key`` on a data directory: the old master key stops working."""
    with LocalB2(data_dir=tmp_path) as first:
        old = (first.application_key_id, first.application_key)
    new = ("000newmaster0000000000001", "K000NewMasterKeyForTheDataDir0001")
    with LocalB2(data_dir=tmp_path, application_key_id=new[0], application_key=new[1]) as second:
        assert (second.application_key_id, second.application_key) == new
        assert_b2_error(authorize(second.realm, *old), 401, "bad_auth_token")
        with RawB2(second.realm, *new) as raw:
            assert set(raw.auth["apiInfo"]["storageApi"]["allowed"]["capabilities"]) == set(
                CAPABILITIES
            )
            listed = raw.ok("b2_list_keys", maxKeyCount=10000)["keys"]
            assert old[0] not in [k["applicationKeyId"] for k in listed]
    with LocalB2(data_dir=tmp_path) as third:  # no key given: the stored one is kept
        assert (third.application_key_id, third.application_key) == new
