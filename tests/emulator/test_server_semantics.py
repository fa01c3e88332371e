"""What the local B2 server does with valid input, checked over raw HTTP: downloads (Range, HEAD,
header overrides), upload checksum modes, listing, large files, persistence, concurrency, the
command line and streaming memory use.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from b2_storage.emulator import LocalB2

from .rawb2 import Generated, RawB2, assert_b2_error, authorize, peak_rss_mib, running_cli, sha1_hex

CONTENT = bytes(range(256)) * 4 + b"tail"  # 1028 bytes
SIZE = len(CONTENT)
Stored = tuple[str, str, dict[str, Any]]  # bucket name, bucket id, file version JSON


@pytest.fixture
def raw(b2_server: LocalB2) -> Iterator[RawB2]:
    with RawB2.of(b2_server) as client:
        yield client


@pytest.fixture
def stored(raw: RawB2) -> Stored:
    """A private bucket holding ``data.bin`` (CONTENT): ``(bucket name, bucket id, file)``."""
    name, bucket_id = raw.bucket()
    return name, bucket_id, raw.upload_ok(bucket_id, "data.bin", CONTENT)


# -- downloads -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=5-", 5, SIZE - 1),
        ("bytes=-7", SIZE - 7, SIZE - 1),
        (f"bytes=1000-{SIZE + 50}", 1000, SIZE - 1),
        (f"bytes={SIZE - 1}-{SIZE - 1}", SIZE - 1, SIZE - 1),
    ],
)
def test_range(raw: RawB2, stored: Stored, header: str, first: int, last: int) -> None:
    response = raw.download(stored[0], "data.bin", headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response.headers["Content-Length"] == str(last - first + 1)
    assert response.content == CONTENT[first : last + 1]
    assert response.headers["x-bz-content-sha1"] == sha1_hex(CONTENT)


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}"])
def test_range_past_the_end(raw: RawB2, stored: Stored, header: str) -> None:
    response = raw.download(stored[0], "data.bin", headers={"Range": header})
    assert_b2_error(response, 416, "range_not_satisfiable")
    assert response.headers["Content-Range"] == f"bytes */{SIZE}"


def test_head(raw: RawB2, stored: Stored) -> None:
    response = raw.download(stored[0], "data.bin", method="HEAD")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == str(SIZE)
    assert response.headers["x-bz-file-id"] == stored[2]["fileId"]
    assert response.headers["x-bz-content-sha1"] == sha1_hex(CONTENT)
    assert response.headers["x-bz-upload-timestamp"] == str(stored[2]["uploadTimestamp"])
    assert response.headers["x-bz-file-name"] == "data.bin"


OVERRIDES = {
    "b2ContentDisposition": 'attachment; filename="report.txt"',
    "b2CacheControl": "max-age=3600, public",
    "b2ContentType": "text/x-report",
    "b2ContentLanguage": "de-CH",
    "b2Expires": "Thu, 01 Dec 2094 16:00:00 GMT",
    "b2ContentEncoding": "gzip",
}
HEADERS = {
    "b2ContentDisposition": "Content-Disposition",
    "b2CacheControl": "Cache-Control",
    "b2ContentType": "Content-Type",
    "b2ContentLanguage": "Content-Language",
    "b2Expires": "Expires",
    "b2ContentEncoding": "Content-Encoding",
}


@pytest.fixture
def pinned(raw: RawB2) -> tuple[str, str]:
    """A gzipped file in a private bucket and a download token pinning every override."""
    name, bucket_id = raw.bucket()
    raw.upload_ok(bucket_id, "report.gz", gzip.compress(CONTENT), content_type="text/plain")
    return name, raw.download_token(bucket_id, "report", **OVERRIDES)


def test_download_overrides_pinned_in_token(raw: RawB2, pinned: tuple[str, str]) -> None:
    response = raw.download(pinned[0], "report.gz", token=pinned[1], params=OVERRIDES)
    assert response.status_code == 200, response.text
    for field, header in HEADERS.items():
        assert response.headers[header] == OVERRIDES[field]
    assert response.content == CONTENT  # requests undid the gzip Content-Encoding


@pytest.mark.parametrize("field", OVERRIDES)
@pytest.mark.parametrize("change", ["omit", "change"])
def test_download_overrides_must_match(
    raw: RawB2, pinned: tuple[str, str], field: str, change: str
) -> None:
    params = dict(OVERRIDES)
    if change == "omit":
        del params[field]
    else:
        params[field] += "x"
    assert_b2_error(raw.download(pinned[0], "report.gz", token=pinned[1], params=params), 401)


# -- uploads -------------------------------------------------------------------------------
def test_hex_digits_at_end(raw: RawB2) -> None:
    name, bucket_id = raw.bucket()
    body = CONTENT + sha1_hex(CONTENT).encode()
    uploaded = raw.upload_ok(bucket_id, "tail.bin", body, sha1="hex_digits_at_end")
    assert uploaded["contentSha1"] == sha1_hex(CONTENT)
    assert uploaded["contentLength"] == SIZE
    assert raw.download(name, "tail.bin").content == CONTENT
    wrong = CONTENT + sha1_hex(b"other").encode()
    assert_b2_error(raw.upload(bucket_id, "bad.bin", wrong, sha1="hex_digits_at_end"), 400)
    assert raw.names(bucket_id) == ["tail.bin"]


def test_do_not_verify(raw: RawB2) -> None:
    name, bucket_id = raw.bucket()
    uploaded = raw.upload_ok(bucket_id, "free.bin", CONTENT, sha1="do_not_verify")
    assert uploaded["contentSha1"] == f"unverified:{sha1_hex(CONTENT)}"
    assert uploaded["contentLength"] == SIZE
    assert raw.download(name, "free.bin").content == CONTENT


def test_upload_timestamp_is_epoch_millis(raw: RawB2) -> None:
    _name, bucket_id = raw.bucket()
    before = time.time() * 1000
    uploaded = raw.upload_ok(bucket_id, "now.txt", b"now")
    after = time.time() * 1000
    assert isinstance(uploaded["uploadTimestamp"], int)
    assert before - 1000 <= uploaded["uploadTimestamp"] <= after + 1000


def test_file_ids_unique_across_buckets(raw: RawB2) -> None:
    ids = [raw.upload_ok(raw.bucket()[1], "same.txt", b"same")["fileId"] for _ in range(2)]
    _name, bucket_id = raw.bucket()
    ids += [raw.upload_ok(bucket_id, "same.txt", b"same")["fileId"] for _ in range(2)]
    assert len(set(ids)) == 4


def test_public_and_private_buckets(raw: RawB2) -> None:
    public, public_id = raw.bucket("allPublic")
    private, private_id = raw.bucket("allPrivate")
    raw.upload_ok(public_id, "open.txt", CONTENT)
    raw.upload_ok(private_id, "closed.txt", CONTENT)
    assert raw.download(public, "open.txt", token=None).content == CONTENT
    assert_b2_error(raw.download(private, "closed.txt", token=None), 401)
    assert raw.download(private, "closed.txt").content == CONTENT


# -- listing -------------------------------------------------------------------------------
@pytest.fixture
def tree(raw: RawB2) -> str:
    _name, bucket_id = raw.bucket()
    for name in ["e.txt", "dir/sub/d.txt", "a.txt", "dir/c.txt", "dir/b.txt"]:
        raw.upload_ok(bucket_id, name, name.encode())
    return bucket_id


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ["a.txt", "dir/b.txt", "dir/c.txt", "dir/sub/d.txt", "e.txt"]),
        ({"prefix": "dir/"}, ["dir/b.txt", "dir/c.txt", "dir/sub/d.txt"]),
        ({"delimiter": "/"}, ["a.txt", "dir/", "e.txt"]),
        ({"prefix": "dir/", "delimiter": "/"}, ["dir/b.txt", "dir/c.txt", "dir/sub/"]),
        ({"startFileName": "dir/c.txt"}, ["dir/c.txt", "dir/sub/d.txt", "e.txt"]),
        ({"prefix": "nothing/"}, []),
    ],
)
def test_list_file_names(
    raw: RawB2, tree: str, options: dict[str, str], expected: list[str]
) -> None:
    listed = raw.ok("b2_list_file_names", bucketId=tree, **options)
    assert [f["fileName"] for f in listed["files"]] == expected
    assert listed["nextFileName"] is None
    folders = [f for f in listed["files"] if f["fileName"].endswith("/")]
    assert all(f["action"] == "folder" for f in folders)


def test_list_file_names_paging(raw: RawB2, tree: str) -> None:
    pages, start = [], None
    while True:
        listed = raw.ok("b2_list_file_names", bucketId=tree, startFileName=start, maxFileCount=2)
        pages.append(([f["fileName"] for f in listed["files"]], listed["nextFileName"]))
        start = listed["nextFileName"]
        if start is None:
            break
    assert pages == [
        (["a.txt", "dir/b.txt"], "dir/c.txt"),
        (["dir/c.txt", "dir/sub/d.txt"], "e.txt"),
        (["e.txt"], None),
    ]


def test_list_file_versions(raw: RawB2) -> None:
    _name, bucket_id = raw.bucket()
    v = [raw.upload_ok(bucket_id, "v.txt", bytes([n]))["fileId"] for n in range(3)]
    u = raw.upload_ok(bucket_id, "u.txt", b"u")["fileId"]
    w = raw.upload_ok(bucket_id, "w.txt", b"w")["fileId"]
    hidden = raw.ok("b2_hide_file", bucketId=bucket_id, fileName="w.txt")
    assert hidden["action"] == "hide"
    expected = [u, v[2], v[1], v[0], hidden["fileId"], w]
    assert [f["fileId"] for f in raw.versions(bucket_id)] == expected
    assert [f["action"] for f in raw.versions(bucket_id)][-2:] == ["hide", "upload"]
    seen: list[str] = []
    cursor: dict[str, Any] = {}
    cursors = []
    while True:
        page = raw.ok("b2_list_file_versions", bucketId=bucket_id, maxFileCount=2, **cursor)
        seen += [f["fileId"] for f in page["files"]]
        cursor = {"startFileName": page["nextFileName"], "startFileId": page["nextFileId"]}
        if page["nextFileName"] is None:
            break
        cursors.append((page["nextFileName"], page["nextFileId"]))
    assert seen == expected
    assert cursors == [("v.txt", v[1]), ("w.txt", hidden["fileId"])]
    assert raw.names(bucket_id) == ["u.txt", "v.txt"]


# -- large files ---------------------------------------------------------------------------
def test_large_file(raw: RawB2) -> None:
    name, bucket_id = raw.bucket()
    size = raw.min_part_size
    parts = [os.urandom(size), os.urandom(size), b"the last part may be small"]
    start = {"bucketId": bucket_id, "contentType": "application/octet-stream"}
    big = raw.ok("b2_start_large_file", fileName="big.bin", **start)["fileId"]
    doomed = raw.ok("b2_start_large_file", fileName="doomed.bin", **start)["fileId"]
    unfinished = raw.ok("b2_list_unfinished_large_files", bucketId=bucket_id)["files"]
    assert [f["fileId"] for f in unfinished] == [big, doomed]
    assert raw.names(bucket_id) == []
    target = raw.ok("b2_get_upload_part_url", fileId=big)
    url_token = (target["uploadUrl"], target["authorizationToken"])
    for number, data in enumerate(parts, start=1):
        answer = raw.upload_part(url_token, number, data)
        assert answer.status_code == 200, answer.text
        assert answer.json()["contentSha1"] == sha1_hex(data)
    listed = raw.ok("b2_list_parts", fileId=big)["parts"]
    assert [(p["partNumber"], p["contentLength"], p["contentSha1"]) for p in listed] == [
        (n, len(d), sha1_hex(d)) for n, d in enumerate(parts, start=1)
    ]
    cancelled = raw.ok("b2_cancel_large_file", fileId=doomed)
    assert cancelled["fileId"] == doomed
    unfinished = raw.ok("b2_list_unfinished_large_files", bucketId=bucket_id)["files"]
    assert [f["fileId"] for f in unfinished] == [big]
    assert_b2_error(raw.post("b2_get_upload_part_url", {"fileId": doomed}), 400)
    finished = raw.ok(
        "b2_finish_large_file", fileId=big, partSha1Array=[sha1_hex(d) for d in parts]
    )
    assert finished["action"] == "upload"
    assert finished["contentLength"] == sum(map(len, parts))
    assert raw.ok("b2_list_unfinished_large_files", bucketId=bucket_id)["files"] == []
    whole = b"".join(parts)
    assert raw.download(name, "big.bin").content == whole
    span = {"Range": f"bytes={size - 5}-{size + 4}"}
    assert raw.download(name, "big.bin", headers=span).content == whole[size - 5 : size + 5]
    assert raw.names(bucket_id) == ["big.bin"]


# -- persistence and concurrency -----------------------------------------------------------
def test_persistence_across_restart(tmp_path: Path) -> None:
    with LocalB2(data_dir=tmp_path) as first, RawB2.of(first) as raw:
        key = (first.application_key_id, first.application_key)
        bucket, bucket_id = raw.bucket()
        file_id = raw.upload_ok(bucket_id, "kept/file.bin", CONTENT)["fileId"]
        token = raw.download_token(bucket_id, "kept/")
    with LocalB2(data_dir=tmp_path) as second, RawB2(second.realm, *key) as raw:
        assert (second.application_key_id, second.application_key) == key
        buckets = raw.ok("b2_list_buckets", accountId=raw.auth["accountId"])["buckets"]
        assert [(b["bucketName"], b["bucketId"]) for b in buckets] == [(bucket, bucket_id)]
        assert raw.download(bucket, "kept/file.bin").content == CONTENT
        assert raw.ok("b2_get_file_info", fileId=file_id)["contentSha1"] == sha1_hex(CONTENT)
        by_query = raw.download(
            bucket, "kept/file.bin", token=None, params={"Authorization": token}
        )
        assert by_query.content == CONTENT


def test_concurrent_uploads_and_downloads(b2_server: LocalB2, raw: RawB2) -> None:
    bucket, bucket_id = raw.bucket()

    def worker(thread: int) -> list[tuple[str, bool]]:
        results = []
        with RawB2.of(b2_server) as c:
            target = c.upload_target(bucket_id)
            for n in range(20):
                name = f"t{thread:02d}/f{n:02d}.bin"
                data = hashlib.sha256(name.encode()).digest() * (n + thread + 1)
                uploaded = c.upload_ok(bucket_id, name, data, target=target)
                got = c.download(bucket, name).content
                results.append((name, uploaded["contentSha1"] == sha1_hex(data) and got == data))
        return results

    with ThreadPoolExecutor(16) as pool:
        results = [r for rs in pool.map(worker, range(16)) for r in rs]
    assert len(results) == 320
    assert [name for name, ok in results if not ok] == []
    assert len(raw.names(bucket_id, maxFileCount=1000)) == 320


# -- the command line ----------------------------------------------------------------------
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_command_line(stop: signal.Signals) -> None:
    with running_cli("--bucket", "clitest-bucket:allPublic") as (process, exports):
        realm = exports["B2_ENVIRONMENT"]
        assert realm.startswith("http://127.0.0.1:")
        key = (exports["B2_APPLICATION_KEY_ID"], exports["B2_APPLICATION_KEY"])
        assert authorize(realm, *key).status_code == 200
        with RawB2(realm, *key) as raw:
            buckets = raw.ok("b2_list_buckets", accountId=raw.auth["accountId"])["buckets"]
            listed = [(b["bucketName"], b["bucketType"]) for b in buckets]
            assert listed == [("clitest-bucket", "allPublic")]
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0


# -- streaming -----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_streaming_256_mib_keeps_memory_low(tmp_path: Path) -> None:
    with running_cli("--data-dir", str(tmp_path)) as (process, exports):
        key = (exports["B2_APPLICATION_KEY_ID"], exports["B2_APPLICATION_KEY"])
        with RawB2(exports["B2_ENVIRONMENT"], *key) as raw:
            bucket, bucket_id = raw.bucket()
            body = Generated(256 * 1024 * 1024)
            expected = body.sha1()
            uploaded = raw.upload(bucket_id, "huge.bin", body, sha1=expected, length=len(body))
            assert uploaded.status_code == 200, uploaded.text
            assert uploaded.json()["contentLength"] == len(body)
            digest, received = hashlib.sha1(), 0
            with raw.download(bucket, "huge.bin", stream=True) as response:
                assert response.status_code == 200
                for chunk in response.iter_content(Generated.CHUNK):
                    digest.update(chunk)
                    received += len(chunk)
            assert (received, digest.hexdigest()) == (len(body), expected)
            assert peak_rss_mib(process.pid) < 100
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
