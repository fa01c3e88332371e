"""Server-side copy: b2_copy_file (same and other bucket, COPY and REPLACE metadata, ranges) and
b2_copy_part (parts of a large file), over raw HTTP with B2's rules and the key's restrictions,
then through b2sdk's ``copy`` and ``concatenate``.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from b2sdk import v2, v3

from b2_storage.emulator import LocalB2, copying

from .rawb2 import RawB2, assert_b2_error, sha1_hex

DATA = bytes(range(256)) * 8  # 2048 bytes
INFO = {"color": "blue", "src_last_modified_millis": "1600000000123"}


@pytest.fixture
def raw(b2_server: LocalB2) -> Iterator[RawB2]:
    with RawB2.of(b2_server) as client:
        yield client


@pytest.fixture
def source(raw: RawB2) -> tuple[str, str, dict[str, Any]]:
    """``(bucket name, bucket id, file JSON)`` of DATA stored as ``src/data.bin``."""
    name, bucket_id = raw.bucket()
    uploaded = raw.upload_ok(bucket_id, "src/data.bin", DATA, content_type="text/x-src", info=INFO)
    return name, bucket_id, uploaded


def test_copy_file_keeps_metadata(raw: RawB2, source: tuple[str, str, dict[str, Any]]) -> None:
    name, bucket_id, uploaded = source
    copied = raw.ok("b2_copy_file", sourceFileId=uploaded["fileId"], fileName="dst/copy.bin")
    assert copied["action"] == "copy"
    assert copied["fileId"] != uploaded["fileId"]
    assert copied["bucketId"] == bucket_id
    assert copied["contentLength"] == len(DATA)
    assert copied["contentSha1"] == sha1_hex(DATA)
    assert copied["contentType"] == "text/x-src"
    assert copied["fileInfo"] == INFO
    response = raw.download(name, "dst/copy.bin")
    assert response.content == DATA
    assert response.headers["x-bz-info-color"] == "blue"
    versions = {v["fileName"]: v["action"] for v in raw.versions(bucket_id)}
    assert versions == {"dst/copy.bin": "upload", "src/data.bin": "upload"}


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=2-5", 2, 5),
        ("bytes=2000-", 2000, 2047),
        ("bytes=-8", 2040, 2047),
        ("bytes=0-99999", 0, 2047),
    ],
)
def test_copy_file_range(
    raw: RawB2, source: tuple[str, str, dict[str, Any]], header: str, first: int, last: int
) -> None:
    name, _bucket_id, uploaded = source
    copied = raw.ok(
        "b2_copy_file", sourceFileId=uploaded["fileId"], fileName="part.bin", range=header
    )
    assert copied["contentLength"] == last - first + 1
    assert copied["contentSha1"] == sha1_hex(DATA[first : last + 1])
    assert raw.download(name, "part.bin").content == DATA[first : last + 1]


def test_copy_file_to_another_bucket(raw: RawB2, source: tuple[str, str, dict[str, Any]]) -> None:
    other, other_id = raw.bucket()
    copied = raw.ok(
        "b2_copy_file",
        sourceFileId=source[2]["fileId"],
        fileName="here.bin",
        destinationBucketId=other_id,
    )
    assert copied["bucketId"] == other_id
    assert raw.download(other, "here.bin").content == DATA
    assert raw.names(source[1]) == ["src/data.bin"]


def test_copy_file_replace_metadata(raw: RawB2, source: tuple[str, str, dict[str, Any]]) -> None:
    file_id = source[2]["fileId"]
    replaced = raw.ok(
        "b2_copy_file",
        sourceFileId=file_id,
        fileName="new.json",
        metadataDirective="REPLACE",
        contentType="b2/x-auto",
        fileInfo={"b2-cache-control": "max-age=5"},
    )
    assert replaced["contentType"] == "application/json"
    assert replaced["fileInfo"] == {"b2-cache-control": "max-age=5"}
    assert raw.download(source[0], "new.json").headers["Cache-Control"] == "max-age=5"
    bare = raw.ok(
        "b2_copy_file",
        sourceFileId=file_id,
        fileName="bare.bin",
        metadataDirective="REPLACE",
        contentType="text/plain",
    )
    assert bare["fileInfo"] == {} and bare["contentType"] == "text/plain"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"metadataDirective": "REPLACE"}, 400, "bad_request"),
        ({"contentType": "text/plain"}, 400, "bad_request"),
        ({"fileInfo": {"a": "b"}}, 400, "bad_request"),
        ({"metadataDirective": "MERGE"}, 400, "bad_request"),
        (
            {
                "metadataDirective": "REPLACE",
                "contentType": "text/plain",
                "fileInfo": {"b2-expires": "never"},
            },
            400,
            "bad_request",
        ),
        ({"range": "bytes=4096-"}, 416, "range_not_satisfiable"),
        ({"range": "rows=1-2"}, 400, "bad_request"),
        ({"fileName": "bad//name"}, 400, "bad_request"),
        ({"destinationBucketId": "0123456789abcdef01234567"}, 400, "bad_bucket_id"),
        ({"sourceFileId": "4_zmissing_f000"}, 404, "not_found"),
        (
            {"destinationServerSideEncryption": {"mode": "SSE-B2", "algorithm": "AES256"}},
            501,
            "not_implemented",
        ),
    ],
)
def test_copy_file_refusals(
    raw: RawB2,
    source: tuple[str, str, dict[str, Any]],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    request = {"sourceFileId": source[2]["fileId"], "fileName": "x.bin", **body}
    assert_b2_error(raw.post("b2_copy_file", request), status, code)
    assert raw.names(source[1]) == ["src/data.bin"]


def test_copy_of_a_hide_marker_is_refused(
    raw: RawB2, source: tuple[str, str, dict[str, Any]]
) -> None:
    hidden = raw.ok("b2_hide_file", bucketId=source[1], fileName="src/data.bin")
    request = {"sourceFileId": hidden["fileId"], "fileName": "x.bin"}
    assert_b2_error(raw.post("b2_copy_file", request), 400, "bad_request")


def test_copy_source_too_large(
    raw: RawB2, source: tuple[str, str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copying, "MAX_COPY_BYTES", 1000)
    response = raw.post("b2_copy_file", {"sourceFileId": source[2]["fileId"], "fileName": "x"})
    assert_b2_error(response, 400, "source_too_large")
    assert response.json()["message"] == f"Copy source too big: {len(DATA)}"


# -- restrictions --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("caps", "prefix", "request_body", "allowed"),
    [
        (["readFiles", "writeFiles"], "src/", {"fileName": "src/copy.bin"}, True),
        (["readFiles", "writeFiles"], "dst/", {"fileName": "dst/copy.bin"}, False),  # source
        (["readFiles", "writeFiles"], "src/", {"fileName": "dst/copy.bin"}, False),  # target
        (["writeFiles"], None, {"fileName": "copy.bin"}, False),
        (["readFiles"], None, {"fileName": "copy.bin"}, False),
        (["readFiles", "writeFiles"], None, {"fileName": "copy.bin", "other_bucket": True}, False),
    ],
)
def test_copy_file_follows_the_key(
    b2_server: LocalB2,
    raw: RawB2,
    source: tuple[str, str, dict[str, Any]],
    caps: list[str],
    prefix: str | None,
    request_body: dict[str, Any],
    allowed: bool,
) -> None:
    name, bucket_id, uploaded = source
    key_id, key = b2_server.create_key(caps, bucket=name, name_prefix=prefix)
    body = {"sourceFileId": uploaded["fileId"], **request_body}
    if body.pop("other_bucket", False):
        body["destinationBucketId"] = raw.bucket()[1]
    with RawB2(b2_server.realm, key_id, key) as limited:
        response = limited.post("b2_copy_file", body)
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert_b2_error(response, 401, "unauthorized")
        assert raw.names(bucket_id) == ["src/data.bin"]


# -- copy_part -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_parts() -> Iterator[LocalB2]:
    with LocalB2(min_part_size=1000, recommended_part_size=1000) as server:
        yield server


def test_copy_part_builds_a_large_file(small_parts: LocalB2) -> None:
    with RawB2.of(small_parts) as raw:
        name, bucket_id = raw.bucket()
        src = raw.upload_ok(bucket_id, "src.bin", DATA)["fileId"]
        started = raw.ok(
            "b2_start_large_file", bucketId=bucket_id, fileName="big.bin", contentType="b2/x-auto"
        )
        large_id = started["fileId"]
        first = raw.ok(
            "b2_copy_part",
            sourceFileId=src,
            largeFileId=large_id,
            partNumber=1,
            range="bytes=0-1199",
        )
        second = raw.ok(
            "b2_copy_part",
            sourceFileId=src,
            largeFileId=large_id,
            partNumber=2,
            range="bytes=1200-2047",
        )
        assert (first["contentLength"], second["contentLength"]) == (1200, 848)
        assert first["contentSha1"] == sha1_hex(DATA[:1200])
        parts = raw.ok("b2_list_parts", fileId=large_id)["parts"]
        assert [p["partNumber"] for p in parts] == [1, 2]
        sha1s = [first["contentSha1"], second["contentSha1"]]
        finished = raw.ok("b2_finish_large_file", fileId=large_id, partSha1Array=sha1s)
        assert finished["contentLength"] == len(DATA)
        assert raw.download(name, "big.bin").content == DATA
        # A copied large file copies whole into one small file, with its SHA1.
        whole = raw.ok("b2_copy_file", sourceFileId=finished["fileId"], fileName="flat.bin")
        assert whole["contentSha1"] == sha1_hex(DATA)
        assert raw.download(name, "flat.bin").content == DATA


def test_copy_part_refusals(small_parts: LocalB2) -> None:
    with RawB2.of(small_parts) as raw:
        name, bucket_id = raw.bucket()
        src = raw.upload_ok(bucket_id, "private/src.bin", DATA)["fileId"]
        large = raw.ok(
            "b2_start_large_file",
            bucketId=bucket_id,
            fileName="private/big.bin",
            contentType="b2/x-auto",
        )["fileId"]
        mine = raw.ok(
            "b2_start_large_file",
            bucketId=bucket_id,
            fileName="public/big.bin",
            contentType="b2/x-auto",
        )["fileId"]
        for number in (0, 10001):
            body = {"sourceFileId": src, "largeFileId": large, "partNumber": number}
            assert_b2_error(raw.post("b2_copy_part", body), 400, "bad_request")
        assert_b2_error(
            raw.post("b2_copy_part", {"sourceFileId": src, "largeFileId": src, "partNumber": 1}),
            400,
        )
        caps = ["listFiles", "readFiles", "writeFiles"]
        key_id, key = small_parts.create_key(caps, bucket=name, name_prefix="public/")
        with RawB2(small_parts.realm, key_id, key) as limited:
            for large_id in (large, mine):  # the source or the target is outside the prefix
                body = {"sourceFileId": src, "largeFileId": large_id, "partNumber": 1}
                assert_b2_error(limited.post("b2_copy_part", body), 401, "unauthorized")
        assert raw.ok("b2_list_parts", fileId=large)["parts"] == []


# -- b2sdk ---------------------------------------------------------------------------------
def connect(interface: str, server: LocalB2) -> Any:
    if interface == "v2":
        api2 = v2.B2Api(v2.InMemoryAccountInfo())
        api2.authorize_account(server.realm, server.application_key_id, server.application_key)
        return api2
    api3 = v3.B2Api(v3.InMemoryAccountInfo())
    api3.authorize_account(server.application_key_id, server.application_key, realm=server.realm)
    return api3


def read(api: Any, file_id: str) -> bytes:
    out = io.BytesIO()
    api.download_file_by_id(file_id).save(out)
    return out.getvalue()


@pytest.mark.parametrize("interface", ["v2", "v3"])
def test_b2sdk_copy(b2_server: LocalB2, interface: str) -> None:
    api = connect(interface, b2_server)
    bucket = api.create_bucket(f"copy-{uuid.uuid4().hex[:16]}", "allPrivate")
    other = api.create_bucket(f"copy-{uuid.uuid4().hex[:16]}", "allPrivate")
    uploaded = bucket.upload_bytes(DATA, "a.bin", file_info=INFO)
    same = bucket.copy(uploaded.id_, "b.bin")
    assert read(api, same.id_) == DATA
    assert api.get_file_info(same.id_).file_info == INFO
    ranged = other.copy(uploaded.id_, "c.bin", offset=10, length=20)
    assert read(api, ranged.id_) == DATA[10:30]
    replaced = bucket.copy(uploaded.id_, "d.txt", content_type="text/plain", file_info={"x": "y"})
    info = api.get_file_info(replaced.id_)
    assert (info.content_type, info.file_info) == ("text/plain", {"x": "y"})


@pytest.mark.parametrize("interface", ["v2", "v3"])
def test_b2sdk_concatenate(small_parts: LocalB2, interface: str) -> None:
    api = connect(interface, small_parts)
    bucket = api.create_bucket(f"concat-{uuid.uuid4().hex[:16]}", "allPrivate")
    first = bucket.upload_bytes(DATA, "one.bin")
    second = bucket.upload_bytes(DATA[::-1], "two.bin")
    module = v2 if interface == "v2" else v3
    sources = [
        module.CopySource(first.id_, length=len(DATA)),
        module.CopySource(second.id_, length=len(DATA)),
    ]
    small_parts.reset_calls()
    joined = bucket.concatenate(sources, "joined.bin")
    assert read(api, joined.id_) == DATA + DATA[::-1]
    assert small_parts.calls["b2_copy_part"] >= 2
    assert small_parts.calls["b2_finish_large_file"] == 1
