"""Upload and download MB/s of one file through b2sdk against the local B2 server, beside a
plain HTTP GET of the same bytes (the floor: what the server itself can serve)."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import requests
from b2sdk.v2 import B2Api, InMemoryAccountInfo

from .support import local_b2_process, median, table, timed

MB = 1000 * 1000


class _Sink(io.RawIOBase):
    """A writable that hashes and forgets, so the download is not bounded by memory copies."""

    def __init__(self) -> None:
        self.digest = hashlib.sha1()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return len(data)


def run(size_mb: int = 100, repeat: int = 3) -> tuple[str, list[list[object]]]:
    """Measure; return the Markdown table and its rows."""
    data = os.urandom(size_mb * MB)
    with local_b2_process("bench-bucket") as server:
        api = B2Api(InMemoryAccountInfo())
        api.authorize_account(server.realm, server.key_id, server.key)
        bucket = api.get_bucket_by_name("bench-bucket")
        upload = timed(lambda: bucket.upload_bytes(data, "bench.bin"), repeat)
        download = timed(lambda: bucket.download_file_by_name("bench.bin").save(_Sink()), repeat)
        token = bucket.get_download_authorization("bench.bin", 3600)
        url = f"{server.realm}/file/bench-bucket/bench.bin"

        def plain_get() -> None:
            with requests.get(url, params={"Authorization": token}, stream=True, timeout=60) as r:
                for _chunk in r.iter_content(1024 * 1024):
                    pass

        floor = timed(plain_get, repeat)
    rows: list[list[object]] = []
    floor_rate = size_mb / median(floor)
    for label, times in (("b2sdk upload", upload), ("b2sdk download", download),
                         ("plain HTTP GET (floor)", floor)):  # fmt: skip
        rate = size_mb / median(times)
        rows.append([label, f"{size_mb} MB", f"{rate:.0f}", f"{rate / floor_rate:.2f}x"])
    headers = ["operation", "size", "MB/s (median)", "vs plain GET"]
    return table(headers, rows), rows
