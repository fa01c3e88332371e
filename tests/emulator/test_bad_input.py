"""Bad input to the local B2 server: each gets B2's JSON error with the right status, and the
server keeps serving afterwards. Raw ``requests`` calls, no b2sdk.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests
from freezegun import freeze_time

from b2_storage.emulator import LocalB2

from .rawb2 import API, RawB2, assert_b2_error, authorize, sha1_hex

DATA = b"the bytes of a small file"  # no trailing newline: see the keep-alive tests


@pytest.fixture
def raw(b2_server: LocalB2) -> Iterator[RawB2]:
    with RawB2.of(b2_server) as client:
        yield client


@pytest.fixture
def bucket(raw: RawB2) -> tuple[str, str]:
    return raw.bucket()


def assert_still_serves(raw: RawB2) -> None:
    """A valid call succeeds afterwards, on the same session and on a fresh connection."""
    assert raw.post("b2_list_buckets", {"accountId": raw.auth["accountId"]}).status_code == 200
    fresh = requests.post(
        f"{raw.api_url}/{API}/b2_list_buckets",
        json={"accountId": raw.auth["accountId"]},
        headers={"Authorization": raw.token},
        timeout=30,
    )
    assert fresh.status_code == 200, fresh.text


# -- the JSON API --------------------------------------------------------------------------
def test_malformed_json_body(raw: RawB2) -> None:
    response = raw.session.post(
        f"{raw.api_url}/{API}/b2_list_buckets",
        data=b'{"accountId": ',
        headers={"Authorization": raw.token, "Content-Type": "application/json"},
        timeout=30,
    )
    assert_b2_error(response, 400, "bad_request")
    assert_still_serves(raw)


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("b2_list_file_names", {}),
        ("b2_list_file_versions", {"maxFileCount": 10}),
        ("b2_get_upload_url", {}),
        ("b2_start_large_file", {"contentType": "b2/x-auto"}),
    ],
)
def test_missing_required_field(raw: RawB2, endpoint: str, body: dict[str, object]) -> None:
    if endpoint == "b2_start_large_file":
        body = {**body, "bucketId": raw.bucket()[1]}  # no fileName
    assert_b2_error(raw.post(endpoint, body), 400, "bad_request")
    assert_still_serves(raw)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [(f"{API}/b2_no_such_call", 501, "not_implemented"), ("nothing/here", 404, "not_found")],
)
def test_unknown_endpoint(raw: RawB2, path: str, status: int, code: str) -> None:
    """An API name the server lacks is refused as not implemented, never as "not found"."""
    response = raw.session.post(
        f"{raw.api_url}/{path}", json={}, headers={"Authorization": raw.token}, timeout=30
    )
    assert_b2_error(response, status, code)
    assert_still_serves(raw)


@pytest.mark.parametrize(
    ("token", "code"),
    [(None, "bad_auth_token"), ("4_acctnot-a-token.x", "bad_auth_token"), ("", "bad_auth_token")],
    ids=["none", "garbage", "empty-header"],
)
def test_bad_account_token(raw: RawB2, token: str | None, code: str) -> None:
    headers = {} if token is None else {"Authorization": token}
    response = raw.session.post(
        f"{raw.api_url}/{API}/b2_list_buckets",
        json={"accountId": raw.auth["accountId"]},
        headers=headers,
        timeout=30,
    )
    assert_b2_error(response, 401, code)
    assert_still_serves(raw)


def test_expired_account_token() -> None:
    with LocalB2(host="127.0.0.1", port=0) as server, RawB2.of(server) as raw:
        server.expire_tokens()
        assert_b2_error(raw.post("b2_list_buckets", {}), 401, "expired_auth_token")
        with RawB2.of(server) as fresh:
            assert_still_serves(fresh)


def test_account_token_expires_with_time() -> None:
    with (
        LocalB2(host="127.0.0.1", port=0, token_lifetime=60) as server,
        RawB2.of(server) as raw,
    ):
        with freeze_time(datetime.now(timezone.utc) + timedelta(seconds=61)):
            assert_b2_error(raw.post("b2_list_buckets", {}), 401, "expired_auth_token")
        assert_still_serves(raw)


@pytest.mark.parametrize("which", ["wrong-key", "wrong-id", "not-basic"])
def test_wrong_credentials_on_authorize(b2_server: LocalB2, raw: RawB2, which: str) -> None:
    key_id, key = b2_server.application_key_id, b2_server.application_key
    url = f"{b2_server.realm}/{API}/b2_authorize_account"
    if which == "wrong-key":
        response = requests.get(url, auth=(key_id, key[:-1] + "x"), timeout=30)
    elif which == "wrong-id":
        response = requests.get(url, auth=("00" + key_id, key), timeout=30)
    else:
        response = requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert_b2_error(response, 401, "bad_auth_token")
    assert authorize(b2_server.realm, key_id, key).status_code == 200
    assert_still_serves(raw)


@pytest.mark.parametrize("endpoint", ["b2_list_file_names", "b2_get_upload_url", "b2_hide_file"])
def test_unknown_bucket_id(raw: RawB2, endpoint: str) -> None:
    body = {"bucketId": "0123456789abcdef01234567", "fileName": "x.txt"}
    assert_b2_error(raw.post(endpoint, body), 400, "bad_bucket_id")
    assert_still_serves(raw)


def test_unknown_bucket_name_in_download(raw: RawB2) -> None:
    response = raw.download("no-such-bucket-anywhere", "x.txt")
    assert_b2_error(response, 404)
    assert_still_serves(raw)


@pytest.mark.parametrize("api", ["b2_list_buckets", "b2_upload_file"])
def test_injected_fault_then_retry_on_same_connection(
    b2_server: LocalB2, raw: RawB2, bucket: tuple[str, str], api: str
) -> None:
    """A client retries a 503 over its pooled keep-alive connection, as b2sdk does."""
    target = raw.upload_target(bucket[1])
    b2_server.fail_next(api, 1, status=503)
    if api == "b2_list_buckets":
        calls = [raw.post(api, {"accountId": raw.auth["accountId"]}) for _ in range(2)]
    else:
        body = b"no newline at the end"  # a leftover "...\n" line would show up as a 400 early
        calls = [raw.upload(bucket[1], "retried.txt", body, target=target) for _ in range(2)]
    assert_b2_error(calls[0], 503, "service_unavailable")
    assert calls[1].status_code == 200, calls[1].text
    assert_still_serves(raw)


# -- download authorization ----------------------------------------------------------------
def flip(token: str, position: int) -> str:
    """Return ``token`` with one character changed (to another URL-safe one)."""
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    return "".join(chars)


@pytest.mark.parametrize("position", [0, 2, 5, 8, 20, -26, -25, -10, -1])
def test_tampered_download_token(raw: RawB2, bucket: tuple[str, str], position: int) -> None:
    name, bucket_id = bucket
    raw.upload_ok(bucket_id, "shared/a.txt", DATA)
    token = raw.download_token(bucket_id, "shared/")
    assert raw.download(name, "shared/a.txt", token=token).content == DATA
    tampered = flip(token, position)
    assert tampered != token
    assert_b2_error(raw.download(name, "shared/a.txt", token=tampered), 401)
    query = raw.download(name, "shared/a.txt", token=None, params={"Authorization": tampered})
    assert_b2_error(query, 401)
    assert_still_serves(raw)


@pytest.mark.parametrize("where", ["other-bucket", "other-prefix"])
def test_download_token_out_of_scope(raw: RawB2, bucket: tuple[str, str], where: str) -> None:
    name, bucket_id = bucket
    other_name, other_id = raw.bucket()
    for bucket_id_ in (bucket_id, other_id):
        raw.upload_ok(bucket_id_, "public/a.txt", DATA)
        raw.upload_ok(bucket_id_, "private/b.txt", DATA)
    token = raw.download_token(bucket_id, "public/")
    assert raw.download(name, "public/a.txt", token=token).content == DATA
    if where == "other-bucket":
        refused = raw.download(other_name, "public/a.txt", token=token)
    else:
        refused = raw.download(name, "private/b.txt", token=token)
    assert_b2_error(refused, 401)
    assert_still_serves(raw)


def test_expired_download_token(raw: RawB2, bucket: tuple[str, str]) -> None:
    name, bucket_id = bucket
    raw.upload_ok(bucket_id, "soon.txt", DATA)
    token = raw.download_token(bucket_id, "", seconds=30)
    now = datetime.now(timezone.utc)
    with freeze_time(now + timedelta(seconds=20)):
        assert raw.download(name, "soon.txt", token=token).content == DATA
    with freeze_time(now + timedelta(seconds=31)):
        assert_b2_error(raw.download(name, "soon.txt", token=token), 401)
    assert_still_serves(raw)


def test_key_without_share_files(b2_server: LocalB2, raw: RawB2, bucket: tuple[str, str]) -> None:
    caps = ["listBuckets", "listFiles", "readFiles", "writeFiles", "deleteFiles"]
    key_id, key = b2_server.create_key(caps)
    body = {"bucketId": bucket[1], "fileNamePrefix": "", "validDurationInSeconds": 60}
    with RawB2(b2_server.realm, key_id, key) as limited:
        assert_b2_error(limited.post("b2_get_download_authorization", body), 401, "unauthorized")
        assert limited.ok("b2_list_file_names", bucketId=bucket[1])["files"] == []
    assert_still_serves(raw)


@pytest.mark.parametrize(("seconds", "status"), [(0, 400), (604801, 400), (1, 200), (604800, 200)])
def test_download_authorization_duration(
    raw: RawB2, bucket: tuple[str, str], seconds: int, status: int
) -> None:
    body = {"bucketId": bucket[1], "fileNamePrefix": "", "validDurationInSeconds": seconds}
    response = raw.post("b2_get_download_authorization", body)
    if status == 400:
        assert_b2_error(response, 400, "bad_request")
    else:
        assert response.status_code == 200
        assert response.json()["authorizationToken"]
    assert_still_serves(raw)


# -- uploads -------------------------------------------------------------------------------
def test_wrong_content_sha1_stores_nothing(raw: RawB2, bucket: tuple[str, str]) -> None:
    response = raw.upload(bucket[1], "bad-sha1.txt", DATA, sha1=sha1_hex(DATA + b"!"))
    assert_b2_error(response, 400, "bad_request")
    assert raw.names(bucket[1]) == []
    assert raw.versions(bucket[1]) == []
    assert_still_serves(raw)


BAD_NAMES = {
    "over-1024-bytes": "d/" * 512 + "x",
    "control-01": "a\x01b.txt",
    "control-7f": "a\x7fb.txt",
    "newline": "a\nb.txt",
    "backslash": "dir\\file.txt",
    "leading-slash": "/file.txt",
    "double-slash": "dir//file.txt",
    "trailing-slash": "dir/",
}


@pytest.mark.parametrize("bad_name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_bad_file_name(raw: RawB2, bucket: tuple[str, str], bad_name: str) -> None:
    assert_b2_error(raw.upload(bucket[1], bad_name, DATA), 400, "bad_request")
    body = {"bucketId": bucket[1], "fileName": bad_name, "contentType": "b2/x-auto"}
    assert_b2_error(raw.post("b2_start_large_file", body), 400, "bad_request")
    assert raw.versions(bucket[1]) == []
    assert_still_serves(raw)


def test_name_of_exactly_1024_bytes_is_accepted(raw: RawB2, bucket: tuple[str, str]) -> None:
    name = "d/" * 511 + "xy"
    assert len(name.encode()) == 1024
    assert raw.upload_ok(bucket[1], name, DATA)["fileName"] == name
    assert raw.names(bucket[1]) == [name]


def test_body_shorter_than_content_length(raw: RawB2, bucket: tuple[str, str]) -> None:
    url, token = raw.upload_target(bucket[1])
    parts = urlsplit(url)
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: {token}\r\n"
        f"X-Bz-File-Name: short.txt\r\nContent-Type: text/plain\r\n"
        f"X-Bz-Content-Sha1: {sha1_hex(b'x' * 1000)}\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"x" * 100)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    # The same again, but the client vanishes without reading an answer.
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"x" * 100)
    assert raw.versions(bucket[1]) == []
    after = raw.upload_ok(bucket[1], "after.txt", DATA, target=(url, token))
    assert after["contentLength"] == len(DATA)
    assert_still_serves(raw)


# -- large files ---------------------------------------------------------------------------
def test_small_part_that_is_not_last() -> None:
    with (
        LocalB2(host="127.0.0.1", port=0, min_part_size=1000) as server,
        RawB2.of(server) as raw,
    ):
        assert raw.min_part_size == 1000
        _name, bucket_id = raw.bucket()

        def large(name: str, sizes: list[int]) -> requests.Response:
            started = raw.ok(
                "b2_start_large_file", bucketId=bucket_id, fileName=name, contentType="text/plain"
            )
            target = raw.ok("b2_get_upload_part_url", fileId=started["fileId"])
            url_token = (target["uploadUrl"], target["authorizationToken"])
            sha1s = []
            for number, size in enumerate(sizes, start=1):
                data = bytes([number]) * size
                assert raw.upload_part(url_token, number, data).status_code == 200
                sha1s.append(sha1_hex(data))
            body = {"fileId": started["fileId"], "partSha1Array": sha1s}
            return raw.post("b2_finish_large_file", body)

        assert_b2_error(large("too-small.bin", [999, 1000, 10]), 400, "bad_request")
        assert_b2_error(large("too-small-2.bin", [1000, 999, 1000]), 400, "bad_request")
        assert raw.names(bucket_id) == []
        finished = large("fine.bin", [1000, 1000, 10])
        assert finished.status_code == 200, finished.text
        assert finished.json()["contentLength"] == 2010
        assert raw.names(bucket_id) == ["fine.bin"]
        assert_still_serves(raw)
