"""The local server's request log never shows a token or key."""

from __future__ import annotations

import logging

import pytest
import requests

from b2_storage.emulator import LocalB2


def test_request_log_hides_download_tokens(
    b2_server: LocalB2, caplog: pytest.LogCaptureFixture
) -> None:
    b2_server.create_bucket("logging-bucket")
    auth = requests.get(
        f"{b2_server.realm}/b2api/v4/b2_authorize_account",
        auth=(b2_server.application_key_id, b2_server.application_key),
        timeout=10,
    ).json()
    bucket_id = requests.post(
        f"{b2_server.realm}/b2api/v4/b2_list_buckets",
        json={"accountId": auth["accountId"], "bucketName": "logging-bucket"},
        headers={"Authorization": auth["authorizationToken"]},
        timeout=10,
    ).json()["buckets"][0]["bucketId"]
    token = requests.post(
        f"{b2_server.realm}/b2api/v4/b2_get_download_authorization",
        json={"bucketId": bucket_id, "fileNamePrefix": "", "validDurationInSeconds": 60},
        headers={"Authorization": auth["authorizationToken"]},
        timeout=10,
    ).json()["authorizationToken"]
    with caplog.at_level(logging.DEBUG, logger="b2_storage.emulator"):
        response = requests.get(
            f"{b2_server.realm}/file/logging-bucket/missing.txt",
            params={"Authorization": token},
            timeout=10,
        )
    assert response.status_code == 404
    assert "missing.txt" in caplog.text  # the request was logged...
    assert token not in caplog.text  # ...without its token
    assert auth["authorizationToken"] not in caplog.text
    assert b2_server.application_key not in caplog.text
