"""Connections dropped in the middle of a body: the server sends a download's headers and part
of the file, then closes; or reads part of an upload, then closes.

A read returns the whole file, right to the byte, or raises one of our exceptions: never short
data. An upload is retried (b2sdk gets a new upload URL) and completes, or raises and leaves
nothing a reader could see.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile

from b2_storage import B2StorageError, B2Unavailable
from b2_storage.emulator import LocalB2

from .conftest import PART, MakeStorage, leftovers, payload

DOWNLOAD = "b2_download_file_by_id"  # a reader downloads the version it opened, by id
SMALL = payload(3000)
LARGE = payload(2 * PART + 123)


def read_all(storage: object, name: str) -> bytes:
    with storage.open(name) as reader:  # type: ignore[attr-defined]
        data: bytes = reader.read()
    return data


def read_or_error(storage: object, name: str) -> bytes | BaseException:
    """Return what a whole read gives, or the exception it raised."""
    try:
        return read_all(storage, name)
    except Exception as exc:  # noqa: BLE001 - judged by the caller
        return exc


def assert_whole_or_ours(outcome: bytes | BaseException, expected: bytes) -> None:
    """The read gave every byte, or raised one of our exceptions (never short data)."""
    if isinstance(outcome, bytes):
        assert len(outcome) == len(expected), f"short read: {len(outcome)} of {len(expected)}"
        assert outcome == expected
        return
    assert isinstance(outcome, B2StorageError), (
        f"a cut download raised {type(outcome).__module__}.{type(outcome).__qualname__}: "
        f"{outcome!r}; expected the whole file or a B2StorageError (B2Unavailable)"
    )


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("cut", [0, 1, 1000])
def test_cut_download_never_returns_short_data(
    make_storage: MakeStorage, b2: LocalB2, data: bytes, cut: int
) -> None:
    storage = make_storage()
    storage.save("cut.bin", ContentFile(data))
    b2.truncate_next(DOWNLOAD, after_bytes=cut)
    outcome = read_or_error(storage, "cut.bin")
    assert b2.faults_injected["cut"] >= 1
    assert_whole_or_ours(outcome, data)
    assert read_all(storage, "cut.bin") == data  # the next read, on a good connection


def test_cut_download_after_a_seek(make_storage: MakeStorage, b2: LocalB2) -> None:
    storage = make_storage()
    storage.save("seek.bin", ContentFile(LARGE))
    with storage.open("seek.bin") as reader:
        reader.seek(PART)
        b2.truncate_next(DOWNLOAD, after_bytes=10)
        try:
            outcome: bytes | BaseException = reader.read()
        except Exception as exc:  # noqa: BLE001
            outcome = exc
    assert_whole_or_ours(outcome, LARGE[PART:])


def test_cut_download_in_chunks(make_storage: MakeStorage, b2: LocalB2) -> None:
    """Reading chunk by chunk (as FileResponse and shutil.copyfileobj do) never ends early."""
    storage = make_storage()
    storage.save("chunks.bin", ContentFile(LARGE))
    b2.truncate_next(DOWNLOAD, after_bytes=PART // 2)
    sink = io.BytesIO()
    try:
        with storage.open("chunks.bin") as reader:
            for chunk in reader.chunks(8192):
                sink.write(chunk)
        outcome: bytes | BaseException = sink.getvalue()
    except Exception as exc:  # noqa: BLE001
        outcome = exc
    assert_whole_or_ours(outcome, LARGE)


@pytest.mark.parametrize("api", ["b2_upload_file", "b2_upload_part"])
@pytest.mark.parametrize("cut", [0, 2000])
def test_cut_upload_is_retried(
    make_storage: MakeStorage, b2: LocalB2, bucket: str, api: str, cut: int
) -> None:
    storage = make_storage()
    data = SMALL if api == "b2_upload_file" else LARGE
    b2.truncate_next(api, 2, after_bytes=cut)
    assert storage.save("up.bin", ContentFile(data)) == "up.bin"
    assert b2.calls[api] >= 3
    assert read_all(storage, "up.bin") == data
    assert leftovers(b2, bucket) == (["up.bin"], [])


@pytest.mark.parametrize("api", ["b2_upload_file", "b2_upload_part"])
def test_uploads_cut_past_retries_raise_and_leave_nothing(
    make_storage: MakeStorage, b2: LocalB2, bucket: str, api: str
) -> None:
    storage = make_storage()
    data = SMALL if api == "b2_upload_file" else LARGE
    b2.truncate_next(api, 200, after_bytes=1000)
    with pytest.raises(B2StorageError) as raised:
        storage.save("never.bin", ContentFile(data))
    assert isinstance(raised.value, B2Unavailable), repr(raised.value)
    b2.clear_faults()
    assert leftovers(b2, bucket) == ([], [])
    assert not storage.exists("never.bin")
