"""Security regressions of the local B2 server, over raw HTTP: response splitting through header
overrides and file info, B2's token rule for overrides on public buckets, malformed tokens of
every kind (401, never 500), the call counter under made-up endpoints, and the permissions of a
data directory.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from b2_storage.emulator import LocalB2

from .rawb2 import API, TIMEOUT, RawB2, assert_b2_error, sha1_hex, upload_headers

DATA = b"bytes that must never come with an injected header"
OVERRIDES = (
    "b2ContentDisposition",
    "b2ContentLanguage",
    "b2Expires",
    "b2CacheControl",
    "b2ContentEncoding",
    "b2ContentType",
)
INJECTIONS = {
    "crlf": "text/plain\r\nSet-Cookie: stolen=1",
    "lf": "text/plain\nSet-Cookie: stolen=1",
    "cr": "text/plain\rX-Injected: 1",
    "body": "text/plain\r\n\r\n<script>alert(1)</script>",
    "nul": "text/plain\x00",
    "del": "text/plain\x7f",
    "tab": "text/plain\tx",
    "non-ascii": "text/plain; charset=\u00e9\u20ac",
}


@pytest.fixture
def raw(b2_server: LocalB2) -> Iterator[RawB2]:
    with RawB2.of(b2_server) as client:
        yield client


@pytest.fixture
def stored(raw: RawB2) -> tuple[str, str]:
    """A private bucket holding ``f.txt``: ``(bucket name, bucket id)``."""
    name, bucket_id = raw.bucket()
    raw.upload_ok(bucket_id, "f.txt", DATA)
    return name, bucket_id


def assert_nothing_injected(response: requests.Response) -> None:
    assert "Set-Cookie" not in response.headers
    assert "X-Injected" not in response.headers
    assert b"<script>" not in response.content


@pytest.fixture
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if the server logged an ERROR (a traceback for an unexpected failure)."""
    with caplog.at_level(logging.ERROR, logger="b2_storage.emulator"):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# -- response splitting --------------------------------------------------------------------
@pytest.mark.parametrize("field", OVERRIDES)
@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_download_override_with_control_characters_is_refused(
    raw: RawB2, stored: tuple[str, str], field: str, value: str
) -> None:
    response = raw.download(stored[0], "f.txt", params={field: value})
    assert_b2_error(response, 400, "bad_request")
    assert_nothing_injected(response)


@pytest.mark.parametrize("field", OVERRIDES)
def test_download_authorization_with_control_characters_is_refused(
    raw: RawB2, stored: tuple[str, str], field: str
) -> None:
    body = {
        "bucketId": stored[1],
        "fileNamePrefix": "",
        "validDurationInSeconds": 60,
        field: INJECTIONS["crlf"],
    }
    assert_b2_error(raw.post("b2_get_download_authorization", body), 400, "bad_request")


@pytest.mark.parametrize(
    ("info", "value"),
    [
        ("b2-content-disposition", "attachment\r\nSet-Cookie: stolen=1"),
        ("b2-cache-control", "no-cache\nX-Injected: 1"),
        ("b2-content-language", "de\x00"),
        ("b2-content-encoding", "gzip\u00e9"),
        ("b2-expires", "tomorrow"),
        ("b2-unknown", "reserved names are B2's"),
    ],
)
def test_stored_b2_info_must_be_a_valid_header(
    raw: RawB2, stored: tuple[str, str], info: str, value: str
) -> None:
    response = raw.upload(stored[1], "evil.txt", DATA, info={info: value})
    assert_b2_error(response, 400, "bad_request")
    body = {
        "bucketId": stored[1],
        "fileName": "evil.bin",
        "contentType": "b2/x-auto",
        "fileInfo": {info: value},
    }
    assert_b2_error(raw.post("b2_start_large_file", body), 400, "bad_request")
    assert raw.names(stored[1]) == ["f.txt"]


@pytest.mark.parametrize(
    "file_info",
    [
        {"a\r\nset-cookie": "x"},
        {"name with space": "x"},
        {"x" * 51: "x"},
        {"n": 5},
        {f"k{i}": "v" for i in range(11)},
    ],
    ids=["crlf-name", "space-name", "long-name", "number-value", "eleven"],
)
def test_bad_file_info_in_json_is_refused(
    raw: RawB2, stored: tuple[str, str], file_info: dict[str, object]
) -> None:
    body = {
        "bucketId": stored[1],
        "fileName": "evil.bin",
        "contentType": "b2/x-auto",
        "fileInfo": file_info,
    }
    assert_b2_error(raw.post("b2_start_large_file", body), 400, "bad_request")


def test_content_type_with_control_characters_is_refused(
    raw: RawB2, stored: tuple[str, str]
) -> None:
    body = {"bucketId": stored[1], "fileName": "evil.bin", "contentType": INJECTIONS["crlf"]}
    assert_b2_error(raw.post("b2_start_large_file", body), 400, "bad_request")


def test_info_names_are_stored_lowercase_and_b2_infos_become_headers(
    raw: RawB2, stored: tuple[str, str]
) -> None:
    info = {"Color": "blue", "b2-cache-control": "max-age=60"}
    uploaded = raw.upload_ok(stored[1], "ok.txt", DATA, info=info)
    assert uploaded["fileInfo"] == {"color": "blue", "b2-cache-control": "max-age=60"}
    response = raw.download(stored[0], "ok.txt")
    assert response.headers["Cache-Control"] == "max-age=60"
    assert response.headers["x-bz-info-color"] == "blue"


# -- overrides on public buckets -----------------------------------------------------------
def test_public_bucket_overrides_need_a_token(raw: RawB2) -> None:
    name, bucket_id = raw.bucket("allPublic")
    raw.upload_ok(bucket_id, "open.txt", DATA)
    params = {"b2ContentType": "text/x-forced"}
    assert_b2_error(raw.download(name, "open.txt", token=None, params=params), 401)
    assert raw.download(name, "open.txt", token=None).content == DATA
    with_token = raw.download(name, "open.txt", params=params)
    assert with_token.status_code == 200
    assert with_token.headers["Content-Type"] == "text/x-forced"
    shared = raw.download_token(bucket_id, "open")
    assert raw.download(name, "open.txt", token=shared, params=params).status_code == 200


# -- malformed tokens ----------------------------------------------------------------------
BAD_TOKENS = {
    "latin-1": "\u00e9\u00ff",
    "acct-latin-1": "4_acct\u00e9.\u00e9",
    "acct-mac-latin-1": "4_acctAAAA.\u00e9\u00e9\u00e9",
    "dnld-latin-1": "4_dnld\u00e9\u00e9.x",
    "upld-latin-1": "4_upld\u00e9.\u00e9",
    "no-mac": "4_acctAAAA",
    "only-dot": "4_acct.",
    "bad-base64": "4_acct%%%.AAAA",
    "long": "4_acct" + "A" * 20000 + ".x",
}


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_malformed_tokens_are_401_everywhere(
    raw: RawB2, stored: tuple[str, str], token: str, no_server_errors: None
) -> None:
    name, bucket_id = stored
    latin1 = {"Authorization": token.encode("latin-1")}  # as a client would send the bytes
    file_id = raw.ok("b2_list_file_names", bucketId=bucket_id)["files"][0]["fileId"]
    upload_url, _ = raw.upload_target(bucket_id)
    started = raw.ok(
        "b2_start_large_file", bucketId=bucket_id, fileName="l.bin", contentType="b2/x-auto"
    )
    part_url = raw.ok("b2_get_upload_part_url", fileId=started["fileId"])["uploadUrl"]
    upload = {**upload_headers("x", len(DATA), sha1_hex(DATA), "text/plain"), **latin1}
    part = {**upload_headers("x", len(DATA), sha1_hex(DATA), None), **latin1}
    by_id = f"{raw.download_url}/{API}/b2_download_file_by_id"
    send = raw.session.request
    answers = [
        send(
            "POST", f"{raw.api_url}/{API}/b2_list_buckets", json={}, headers=latin1, timeout=TIMEOUT
        ),
        send(
            "POST",
            upload_url,
            data=DATA,
            headers={**upload, "X-Bz-File-Name": "u.txt"},
            timeout=TIMEOUT,
        ),
        send(
            "POST", part_url, data=DATA, headers={**part, "X-Bz-Part-Number": "1"}, timeout=TIMEOUT
        ),
        send("GET", raw.file_url(name, "f.txt"), headers=latin1, timeout=TIMEOUT),
        send("GET", raw.file_url(name, "f.txt"), params={"Authorization": token}, timeout=TIMEOUT),
        send("GET", by_id, params={"fileId": file_id}, headers=latin1, timeout=TIMEOUT),
    ]
    for response in answers:
        assert_b2_error(response, 401)
    assert raw.names(bucket_id) == ["f.txt"]


@pytest.mark.parametrize(
    "header",
    [
        b"Basic \xc3\xa9\xc3\xa9",
        b"Basic " + base64.b64encode(b"\xff\xfe:\xff"),
        b"Basic " + base64.b64encode("\u00e9:\u00e9".encode()),
        b"Basic",
        b"\xe9",
    ],
    ids=["non-ascii-base64", "not-utf8", "non-ascii-key", "empty", "latin-1"],
)
def test_malformed_basic_auth_is_401(
    b2_server: LocalB2, header: bytes, no_server_errors: None
) -> None:
    response = requests.get(
        f"{b2_server.realm}/{API}/b2_authorize_account",
        headers={"Authorization": header},
        timeout=30,
    )
    assert_b2_error(response, 401, "bad_auth_token")


# -- call counting -------------------------------------------------------------------------
def test_made_up_endpoints_share_one_counter(b2_server: LocalB2) -> None:
    before = set(b2_server.calls)
    with requests.Session() as session:
        for index in range(50):
            session.post(f"{b2_server.realm}/{API}/b2_made_up_{index}", json={}, timeout=30)
    assert set(b2_server.calls) - before <= {"unknown"}
    assert b2_server.calls["unknown"] == 50


# -- data directory ------------------------------------------------------------------------
def test_data_directory_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    with LocalB2(data_dir=data_dir, buckets=["private-state"]) as server, RawB2.of(server):
        pass
    assert stat.S_IMODE(data_dir.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((data_dir / "blobs").stat().st_mode) & 0o077 == 0
    databases = list(data_dir.glob("metadata.sqlite3*"))
    assert databases
    for path in databases:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_readable_database_is_made_private(tmp_path: Path) -> None:
    tmp_path.joinpath("metadata.sqlite3").touch()
    os.chmod(tmp_path / "metadata.sqlite3", 0o644)
    with LocalB2(data_dir=tmp_path):
        assert stat.S_IMODE((tmp_path / "metadata.sqlite3").stat().st_mode) == 0o600


def test_quoted_names_still_download(raw: RawB2, stored: tuple[str, str]) -> None:
    """Names and info values are percent-encoded in headers, so they need no such check."""
    raw.upload_ok(stored[1], "a b\u00e9.txt", DATA, info={"note": "line1\r\nline2"})
    response = raw.download(stored[0], "a b\u00e9.txt")
    assert response.content == DATA
    assert response.headers["x-bz-info-note"] == quote("line1\r\nline2", safe="")


def test_unchecked_infos_from_an_older_data_directory_are_not_sent(tmp_path: Path) -> None:
    """A data directory written before the checks may hold a bad ``b2-*`` info: left out."""

    def server() -> LocalB2:
        return LocalB2(
            data_dir=tmp_path,
            application_key_id="000olddatadir000000000001",
            application_key="K000OldDataDirectoryKeyForTests00",
        )

    with server() as first, RawB2.of(first) as raw:
        name, bucket_id = raw.bucket()
        raw.upload_ok(bucket_id, "old.txt", DATA, info={"b2-cache-control": "max-age=1"})
    bad = json.dumps({"b2-cache-control": "x\r\nSet-Cookie: stolen=1", "a\r\nb": "c"})
    with sqlite3.connect(tmp_path / "metadata.sqlite3") as database:
        database.execute("UPDATE files SET info = ?, content_type = ?", (bad, "text/a\r\nX: 1"))
    database.close()
    with server() as second, RawB2.of(second) as raw:
        response = raw.download(name, "old.txt")
    assert response.content == DATA
    assert_nothing_injected(response)
    assert "Cache-Control" not in response.headers
    assert response.headers.get("Content-Type", "") == ""
