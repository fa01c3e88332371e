"""The local server's fault injection itself, seen on the wire (raw HTTP, no client library)."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from b2sdk.v2 import B2Api

from b2_storage.emulator import LocalB2

from .conftest import count_faults, sdk_for, small_parts_server


def authorize(server: LocalB2, version: str = "v3") -> dict[str, str]:
    answer = requests.get(
        f"{server.realm}/b2api/{version}/b2_authorize_account",
        auth=(server.application_key_id, server.application_key),
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json())


def list_buckets(server: LocalB2, token: str) -> requests.Response:
    account = authorize(server)["accountId"]
    return requests.post(
        f"{server.realm}/b2api/v3/b2_list_buckets",
        json={"accountId": account},
        headers={"Authorization": token},
        timeout=10,
    )


@pytest.mark.parametrize(
    ("status", "code", "retry_after"),
    [
        (503, "service_unavailable", "3"),
        (429, "too_many_requests", "3"),
        (401, "expired_auth_token", None),
        (500, "internal_error", None),
    ],
)
def test_fail_next_answers_as_b2(
    b2: LocalB2, status: int, code: str, retry_after: str | None
) -> None:
    token = authorize(b2)["authorizationToken"]
    b2.fail_next("b2_list_buckets", 1, status=status, retry_after=3)
    failed = list_buckets(b2, token)
    assert failed.status_code == status
    assert failed.json()["code"] == code
    assert failed.headers.get("Retry-After") == retry_after
    assert list_buckets(b2, token).status_code == 200
    assert b2.faults_injected[str(status)] >= 1


def test_fail_next_refuses_other_statuses(b2: LocalB2) -> None:
    with pytest.raises(ValueError, match="status"):
        b2.fail_next("b2_list_buckets", status=404)
    with pytest.raises(ValueError, match="body"):
        b2.truncate_next("b2_list_buckets", after_bytes=1)


def test_truncate_next_cuts_a_download_after_its_headers(b2: LocalB2, bucket: str) -> None:
    sdk_for(b2).get_bucket_by_name(bucket).upload_bytes(b"0123456789" * 100, "ten.txt")
    b2.truncate_next("b2_download_file_by_name", after_bytes=250)
    account = authorize(b2, "v2")  # downloadUrl at the top level
    url = urlsplit(f"{account['downloadUrl']}/file/{bucket}/ten.txt")
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(
            f"GET {url.path} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {account['authorizationToken']}\r\n\r\n".encode()
        )
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"Content-Length: 1000" in head
    assert body == (b"0123456789" * 100)[:250]  # then the server closed the connection


def test_truncate_next_cuts_an_upload(b2: LocalB2, bucket: str) -> None:
    api: B2Api = sdk_for(b2)
    upload = api.session.get_upload_url(api.get_bucket_by_name(bucket).id_)
    b2.truncate_next("b2_upload_file", after_bytes=10)
    with pytest.raises(requests.ConnectionError):
        requests.post(
            upload["uploadUrl"],
            data=b"x" * 5_000_000,
            headers={
                "Authorization": upload["authorizationToken"],
                "X-Bz-File-Name": "cut.txt",
                "Content-Type": "text/plain",
                "X-Bz-Content-Sha1": "do_not_verify",
            },
            timeout=10,
        )
    assert list(api.get_bucket_by_name(bucket).ls("", recursive=True)) == []


def test_on_call_runs_on_the_nth_call_and_expire_after_lets_it_succeed(b2: LocalB2) -> None:
    token = authorize(b2)["authorizationToken"]
    seen: list[int] = []
    b2.on_call("b2_list_buckets", lambda: seen.append(b2.calls["b2_list_buckets"]), nth=2)
    b2.expire_after("b2_list_buckets", 2)
    assert list_buckets(b2, token).status_code == 200
    assert seen == []
    assert list_buckets(b2, token).status_code == 200  # the 2nd: handled, then tokens expire
    assert seen == [2]
    expired = list_buckets(b2, token)
    assert (expired.status_code, expired.json()["code"]) == (401, "expired_auth_token")


def test_limit_pages_makes_listings_span_pages(b2: LocalB2, bucket: str) -> None:
    sdk_bucket = sdk_for(b2).get_bucket_by_name(bucket)
    for index in range(5):
        sdk_bucket.upload_bytes(b"x", f"p/{index}")
    b2.limit_pages(2)
    b2.reset_calls()
    assert [v.file_name for v, _ in sdk_bucket.ls("p", recursive=True)] == [
        f"p/{index}" for index in range(5)
    ]
    assert b2.calls["b2_list_file_names"] == 3


def test_restart_keeps_port_key_and_data(tmp_path: Path) -> None:
    server = small_parts_server(data_dir=tmp_path / "b2").start()
    try:
        server.create_bucket("kept-bucket")
        sdk_for(server).get_bucket_by_name("kept-bucket").upload_bytes(b"kept", "k.txt")
        before = (server.port, server.application_key_id, server.application_key)
        server.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{before[0]}/", timeout=5)
        server.start()
        assert (server.port, server.application_key_id, server.application_key) == before
        bucket = sdk_for(server).get_bucket_by_name("kept-bucket")
        assert bucket.download_file_by_name("k.txt").response.content == b"kept"
    finally:
        server.stop()
        count_faults(server)


def test_stop_closes_open_connections() -> None:
    with small_parts_server() as server:
        realm = server.realm
        with socket.create_connection((urlsplit(realm).hostname, server.port), timeout=10) as conn:
            conn.sendall(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = conn.recv(65536)
            while not answer.endswith(b"}"):  # the headers and the JSON body may come apart
                answer += conn.recv(65536)
            assert answer.startswith(b"HTTP/1.1 404")  # and the connection is kept alive
            server.stop()
            assert conn.recv(65536) == b""  # closed by the stop, not left serving
