"""Raw B2 native API calls over ``requests``, for tests that drive the local B2 server by hand.

No b2sdk here: every request is built as the B2 docs describe it, so the tests see exactly what
the server answers (status, headers, JSON error body).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from b2_storage.emulator import LocalB2

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30
API = "b2api/v4"


def sha1_hex(data: bytes) -> str:
    """Return the SHA1 of ``data`` as 40 lowercase hex digits."""
    return hashlib.sha1(data).hexdigest()


def unique_bucket_name(stem: str = "t") -> str:
    """Return a bucket name no other test uses (6-63 letters, digits and '-')."""
    return f"{stem}-{uuid.uuid4().hex[:16]}"


def assert_b2_error(response: requests.Response, status: int, code: str | None = None) -> None:
    """Check that ``response`` is B2's JSON error ``{"status", "code", "message"}``."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"status", "code", "message"}, body
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code, body


def authorize(realm: str, key_id: str, key: str, api: str = API) -> requests.Response:
    """Call b2_authorize_account with HTTP Basic credentials."""
    return requests.get(f"{realm}/{api}/b2_authorize_account", auth=(key_id, key), timeout=TIMEOUT)


class RawB2:
    """One authorized account on a B2 server, with helpers for each raw call (``api`` is the
    path of the API version, ``b2api/v4`` unless given)."""

    def __init__(self, realm: str, key_id: str, key: str, api: str = API) -> None:
        self.api = api
        self.session = requests.Session()
        response = authorize(realm, key_id, key, api)
        assert response.status_code == 200, response.text
        self.auth = response.json()
        storage = self.auth["apiInfo"]["storageApi"] if "apiInfo" in self.auth else self.auth
        self.api_url: str = storage["apiUrl"]
        self.download_url: str = storage["downloadUrl"]
        self.min_part_size: int = storage["absoluteMinimumPartSize"]
        self.token: str = self.auth["authorizationToken"]

    @classmethod
    def of(cls, server: LocalB2) -> RawB2:
        """Return a client authorized with a local server's master key."""
        return cls(server.realm, server.application_key_id, server.application_key)

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __enter__(self) -> RawB2:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- JSON API ------------------------------------------------------------------------
    def post(
        self, endpoint: str, body: Mapping[str, Any] | None = None, *, token: str | None = ""
    ) -> requests.Response:
        """POST ``body`` as JSON to an endpoint; ``token=None`` sends no Authorization."""
        headers = {} if token is None else {"Authorization": token or self.token}
        return self.session.post(
            f"{self.api_url}/{self.api}/{endpoint}",
            json=body or {},
            headers=headers,
            timeout=TIMEOUT,
        )

    def ok(self, endpoint: str, **body: Any) -> dict[str, Any]:
        """Call an endpoint that must succeed; return its JSON."""
        response = self.post(endpoint, body)
        assert response.status_code == 200, (endpoint, response.status_code, response.text)
        result: dict[str, Any] = response.json()
        return result

    def bucket(self, bucket_type: str = "allPrivate", stem: str = "t") -> tuple[str, str]:
        """Create a fresh bucket; return ``(name, bucket_id)``."""
        created = self.ok(
            "b2_create_bucket",
            accountId=self.auth["accountId"],
            bucketName=unique_bucket_name(stem),
            bucketType=bucket_type,
        )
        return created["bucketName"], created["bucketId"]

    def names(self, bucket_id: str, **options: Any) -> list[str]:
        """Return the file names b2_list_file_names gives (one page)."""
        listed = self.ok("b2_list_file_names", bucketId=bucket_id, **options)
        return [f["fileName"] for f in listed["files"]]

    def versions(self, bucket_id: str) -> list[dict[str, Any]]:
        """Return every file version of a bucket (one page of up to 10000)."""
        listed = self.ok("b2_list_file_versions", bucketId=bucket_id, maxFileCount=10000)
        files: list[dict[str, Any]] = listed["files"]
        return files

    def download_token(
        self, bucket_id: str, prefix: str = "", seconds: int = 3600, **overrides: str
    ) -> str:
        """Return a download-authorization token for a prefix of a bucket."""
        body = self.ok(
            "b2_get_download_authorization",
            bucketId=bucket_id,
            fileNamePrefix=prefix,
            validDurationInSeconds=seconds,
            **overrides,
        )
        token: str = body["authorizationToken"]
        return token

    # -- bytes ---------------------------------------------------------------------------
    def upload_target(self, bucket_id: str) -> tuple[str, str]:
        """Return ``(uploadUrl, upload token)`` from b2_get_upload_url."""
        target = self.ok("b2_get_upload_url", bucketId=bucket_id)
        return target["uploadUrl"], target["authorizationToken"]

    def upload(
        self,
        bucket_id: str,
        name: str,
        data: bytes | Iterable[bytes],
        *,
        sha1: str | None = None,
        content_type: str = "b2/x-auto",
        info: Mapping[str, str] | None = None,
        target: tuple[str, str] | None = None,
        length: int | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """POST a file to an upload URL (a fresh one unless ``target`` is given), with ``extra``
        headers."""
        url, token = target or self.upload_target(bucket_id)
        if isinstance(data, bytes):
            length = len(data) if length is None else length
            sha1 = sha1_hex(data) if sha1 is None else sha1
        assert length is not None and sha1 is not None, "a stream needs its length and SHA1"
        headers = upload_headers(token, length, sha1, content_type)
        headers["X-Bz-File-Name"] = quote(name.encode("utf-8"), safe="/")
        for key, value in (info or {}).items():
            headers[f"X-Bz-Info-{key}"] = quote(value, safe="")
        headers.update(extra or {})
        return self.session.post(url, data=data, headers=headers, timeout=TIMEOUT)

    def upload_ok(self, bucket_id: str, name: str, data: bytes, **options: Any) -> dict[str, Any]:
        """Upload a file that must be accepted; return the file version JSON."""
        response = self.upload(bucket_id, name, data, **options)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def upload_part(
        self,
        target: tuple[str, str],
        number: int,
        data: bytes,
        extra: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """POST one part of a large file to a part upload URL (with ``extra`` headers)."""
        url, token = target
        headers = upload_headers(token, len(data), sha1_hex(data), None)
        headers["X-Bz-Part-Number"] = str(number)
        headers.update(extra or {})
        return self.session.post(url, data=data, headers=headers, timeout=TIMEOUT)

    def file_url(self, bucket_name: str, name: str) -> str:
        """Return the download-by-name URL of a file."""
        return f"{self.download_url}/file/{bucket_name}/{quote(name.encode('utf-8'), safe='/')}"

    def download(
        self,
        bucket_name: str,
        name: str,
        *,
        token: str | None = "",
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """GET (or HEAD) a file by name; ``token=None`` sends no Authorization."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = token or self.token
        url = self.file_url(bucket_name, name)
        return self.session.request(
            method, url, headers=sent, params=params, timeout=TIMEOUT, stream=stream
        )


def upload_headers(token: str, length: int, sha1: str, content_type: str | None) -> dict[str, str]:
    """Return the headers every upload (file or part) carries."""
    headers = {"Authorization": token, "Content-Length": str(length), "X-Bz-Content-Sha1": sha1}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


@contextmanager
def running_cli(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """Run ``python -m b2_storage.emulator --port 0 ARGS``; give it and its ``export`` settings.

    On exit the process is killed if it still runs (a test stops it with a signal first).
    """
    pythonpath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    process = subprocess.Popen(
        [sys.executable, "-m", "b2_storage.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": pythonpath},
    )
    assert process.stdout is not None
    try:
        exports: dict[str, str] = {}
        lines = []
        watchdog = threading.Timer(60, process.kill)  # never hang on a silent server
        watchdog.start()
        try:
            while "B2_APPLICATION_KEY" not in exports:
                line = process.stdout.readline()
                assert line, f"the server stopped before printing its settings: {lines}"
                lines.append(line)
                if line.startswith("export "):
                    name, _, value = line.removeprefix("export ").strip().partition("=")
                    exports[name] = value
        finally:
            watchdog.cancel()
        assert any(exports["B2_ENVIRONMENT"] in line for line in lines if "listening" in line)
        yield process, exports
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


class Generated:
    """A deterministic body of ``size`` bytes, generated on the fly (sized, so not chunked)."""

    CHUNK = 1024 * 1024

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        for index in range(0, self.size, self.CHUNK):
            seed = hashlib.sha256(index.to_bytes(8, "big")).digest()
            yield (seed * (self.CHUNK // len(seed)))[: min(self.CHUNK, self.size - index)]

    def sha1(self) -> str:
        digest = hashlib.sha1()
        for chunk in self:
            digest.update(chunk)
        return digest.hexdigest()


def peak_rss_mib(pid: int) -> float:
    """Return the peak resident set size (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")
