"""A whole-file read is checked against the SHA1 B2 stored; a broken download never reads short.

Against a real local B2 server that keeps its blobs in a data directory, so a test can alter a
stored byte behind B2's back, and a proxy in front of it that can cut a download mid-body.
"""

from __future__ import annotations

import http.client
import io
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import File
from django.http import FileResponse

from b2_storage import B2IntegrityError, B2Storage, B2StorageError
from b2_storage.emulator import LocalB2

from .conftest import PART, payload

MiB = 1024 * 1024
PIECE = 64 * 1024


@pytest.fixture(scope="module")
def disk_b2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalB2, Path]]:
    """A local B2 server with 100 kB parts whose blobs are files in a data directory."""
    data_dir = tmp_path_factory.mktemp("b2-data")
    with LocalB2(data_dir=data_dir, min_part_size=100_000, recommended_part_size=PART) as server:
        yield server, data_dir


@pytest.fixture
def storage(disk_b2: tuple[LocalB2, Path]) -> B2Storage:
    server, _ = disk_b2
    bucket = f"t-{uuid.uuid4().hex[:24]}"
    server.create_bucket(bucket)
    return B2Storage(**server.storage_options(bucket, part_size=PART))


def blobs(data_dir: Path, name: str) -> list[tuple[Path, int]]:
    """Return the blob files (and sizes) that hold the newest version of ``name``, in order."""
    with closing(sqlite3.connect(data_dir / "metadata.sqlite3")) as db:
        (segments,) = db.execute(
            "SELECT segments FROM files WHERE name = ? AND action = 'upload' "
            "ORDER BY serial DESC LIMIT 1",
            (name,),
        ).fetchone()
    return [(data_dir / "blobs" / blob, size) for blob, size in json.loads(segments)]


def flip(data_dir: Path, name: str, offset: int) -> None:
    """Invert the stored byte at ``offset`` of ``name``, behind B2's back."""
    for path, size in blobs(data_dir, name):
        if offset < size:
            with open(path, "r+b") as blob:
                blob.seek(offset)
                (byte,) = blob.read(1)
                blob.seek(offset)
                blob.write(bytes([byte ^ 0xFF]))
            return
        offset -= size
    raise AssertionError("offset past the end of the file")


def pieces(opened: Any, size: int = PIECE) -> Iterator[bytes]:
    while piece := opened.read(size):
        yield piece


class Unseekable(io.RawIOBase):
    """A stream of unknown length (the storage uploads it with ``upload_unbound_stream``)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


# -- intact files ------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, MiB, 3 * PART + 123])  # 3 * PART + 123: a large file
def test_an_intact_file_reads_whole_in_every_way(storage: B2Storage, size: int) -> None:
    data = payload(size)
    storage.save("doc.bin", File(io.BytesIO(data)))
    with storage.open("doc.bin") as opened:
        assert opened.read() == data
    with storage.open("doc.bin") as opened:
        assert b"".join(opened.chunks()) == data
        opened.seek(0)
        assert b"".join(pieces(opened)) == data
        opened.seek(0)
        assert b"".join(opened.readlines()) == data
    assert b"".join(FileResponse(storage.open("doc.bin")).streaming_content) == data


def test_uploads_through_the_storage_record_a_sha1_large_files_too(storage: B2Storage) -> None:
    storage.save("small.bin", File(io.BytesIO(payload(1000))))
    storage.save("large.bin", File(io.BytesIO(payload(3 * PART))))
    assert storage.open("small.bin").file.checking
    large = storage.open("large.bin")
    assert large.file.checking  # b2sdk sets large_file_sha1 for a source of known length


# -- a corrupted byte --------------------------------------------------------------------------
@pytest.fixture(params=[MiB, 4 * PART + 5_000], ids=["1MiB", "large-5-parts"])
def corrupted(request: pytest.FixtureRequest, storage: B2Storage, disk_b2: Any) -> bytes:
    """Save ``doc.bin`` and flip one stored byte in its last 64 KiB; return the true bytes."""
    data = payload(request.param)
    storage.save("doc.bin", File(io.BytesIO(data)))
    flip(disk_b2[1], "doc.bin", len(data) - 10)
    return data


def test_read_of_a_corrupted_file_raises(storage: B2Storage, corrupted: bytes) -> None:
    with storage.open("doc.bin") as opened, pytest.raises(B2IntegrityError) as raised:
        opened.read()
    error = raised.value
    assert isinstance(error, OSError) and isinstance(error, B2StorageError)
    assert "'doc.bin'" in str(error) and "differ from what B2 stored" in str(error)
    assert error.name == "doc.bin"


def test_chunks_of_a_corrupted_file_raise(storage: B2Storage, corrupted: bytes) -> None:
    with storage.open("doc.bin") as opened, pytest.raises(B2IntegrityError):
        for _chunk in opened.chunks():
            pass


def test_file_response_of_a_corrupted_file_raises(storage: B2Storage, corrupted: bytes) -> None:
    with storage.open("doc.bin") as opened:  # closed here: response.close() would also fire
        response = FileResponse(opened)  # request_finished, which touches the database
        with pytest.raises(B2IntegrityError):
            b"".join(response.streaming_content)


def test_pieces_are_true_until_the_one_reaching_the_end_raises(
    storage: B2Storage, corrupted: bytes
) -> None:
    last = (len(corrupted) - 1) // PIECE * PIECE  # where the piece that reaches EOF starts
    with storage.open("doc.bin") as opened:
        for start in range(0, last, PIECE):
            assert opened.read(PIECE) == corrupted[start : start + PIECE]
        with pytest.raises(B2IntegrityError):
            opened.read(PIECE)
        assert opened.tell() == last  # nothing of the failed piece was returned
        with pytest.raises(B2IntegrityError):  # reading again downloads and checks again
            opened.read(PIECE)


def test_a_byte_corrupted_mid_file_is_found_at_the_end(storage: B2Storage, disk_b2: Any) -> None:
    data = payload(MiB)
    storage.save("doc.bin", File(io.BytesIO(data)))
    flip(disk_b2[1], "doc.bin", 300_000)
    with storage.open("doc.bin") as opened:
        got = opened.read(MiB - 1)  # what B2 served, returned as it came: unchecked so far
        assert got[300_000] != data[300_000] and got[:300_000] == data[:300_000]
        with pytest.raises(B2IntegrityError):
            opened.read(1)


def test_a_ranged_read_returns_bytes_unchecked(storage: B2Storage, corrupted: bytes) -> None:
    """B2 keeps no checksum of a range: a read after a seek returns what B2 serves."""
    end = len(corrupted)
    with storage.open("doc.bin") as opened:
        opened.seek(end - PIECE)
        assert not opened.file.checking
        tail = opened.read()
        assert tail != corrupted[end - PIECE :] and tail[:-10] == corrupted[end - PIECE : -10]
        opened.seek(0)  # back at byte 0: a whole read is checked again
        assert opened.file.checking
        with pytest.raises(B2IntegrityError):
            opened.read()


def test_a_large_file_without_a_stored_sha1_is_read_unchecked(
    storage: B2Storage, disk_b2: Any
) -> None:
    """A stream of unknown length is uploaded before its SHA1 is known: B2 records none."""
    data = payload(3 * PART)
    storage.save("stream.bin", File(Unseekable(data), name="stream.bin"))
    flip(disk_b2[1], "stream.bin", 5)
    with storage.open("stream.bin") as opened:
        assert not opened.file.checking
        got = opened.read()
    assert len(got) == len(data) and got != data


# -- a download cut short ----------------------------------------------------------------------
HOP_HEADERS = {"content-length", "connection", "server", "date"}  # ours, or send_response's


class CuttingProxy(ThreadingHTTPServer):
    """An HTTP proxy to a local B2 server that can break the next download after N bytes."""

    def __init__(self, upstream: LocalB2) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.cut: int | None = None  # how many bytes of the next download to send


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CuttingProxy

    def log_message(self, fmt: str, *args: Any) -> None:
        """Stay quiet."""

    def do_GET(self) -> None:
        answer, data = self._ask_upstream()
        headers = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_HEADERS}
        cut = None
        downloads = self.path.startswith("/file/") or "/b2_download_file_by_id" in self.path
        if downloads and self.command == "GET":
            cut, self.server.cut = self.server.cut, None
        # HEAD's is the file's; an authorization's body was rewritten: its length is ours.
        headers["Content-Length"] = str(len(data))
        if self.command == "HEAD":
            headers["Content-Length"] = answer.getheader("Content-Length") or "0"
        sent = data if cut is None else data[:cut]  # Content-Length still says the whole
        self.send_response(answer.status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(sent)
        self.close_connection = cut is not None

    def _ask_upstream(self) -> tuple[http.client.HTTPResponse, bytes]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream.port)
        skip = {"host", "connection", "content-length"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if "b2_authorize_account" in self.path:  # so that downloads come through us too
            data = data.replace(self.server.upstream.realm.encode(), self.server.url.encode())
        return answer, data

    do_POST = do_HEAD = do_GET


@pytest.fixture
def proxy(disk_b2: Any) -> Iterator[CuttingProxy]:
    server = CuttingProxy(disk_b2[0])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_download_cut_mid_body_never_reads_short(storage: B2Storage, proxy: CuttingProxy) -> None:
    data = payload(MiB)
    storage.save("doc.bin", File(io.BytesIO(data)))
    options = proxy.upstream.storage_options(storage.config.bucket, part_size=PART)
    via = B2Storage(**{**options, "realm": proxy.url})
    # The connection breaks after 300 kB of the body. (A short body that says it is complete,
    # as a short stored blob would give, b2sdk itself refuses with InvalidRange.)
    proxy.cut = 300_000
    got = b""
    with via.open("doc.bin") as opened:
        with pytest.raises(B2IntegrityError, match=r"ended the download after \d+ of 1048576"):
            for piece in pieces(opened):
                got += piece
        assert got == data[: len(got)] and len(got) < 300_000 and opened.tell() == len(got)
        assert opened.read() == data[len(got) :]  # a new download from there, checked at EOF
        assert not opened.file.checking  # checked and found intact (a seek to 0 checks again)
