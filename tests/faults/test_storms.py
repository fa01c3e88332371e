"""Storms of 503 and 429 (with ``Retry-After``) on uploads, small and large, and on listing.

What B2 lets succeed on retry succeeds (and leaves no unfinished large file behind); a storm
that outlasts the retries raises one of our exceptions, within bounded time, and leaves nothing a
reader could see.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile

from b2_storage import B2StorageError, B2Unavailable
from b2_storage.emulator import LocalB2

from .conftest import PART, MakeStorage, error_chain, leftovers, payload

SMALL = payload(PART // 2)
LARGE = payload(3 * PART + 17)  # four parts
SMALL_UPLOAD = ("b2_get_upload_url", "b2_upload_file")
LARGE_UPLOAD = (
    "b2_start_large_file",
    "b2_get_upload_part_url",
    "b2_upload_part",
    "b2_finish_large_file",
)
BOUND = 30  # seconds: a failing operation gives up within this


def content_for(api: str) -> bytes:
    return SMALL if api in SMALL_UPLOAD else LARGE


def assert_ours(error: BaseException) -> None:
    """Our exception, not one of b2sdk's, requests' or the standard library's."""
    assert isinstance(error, B2StorageError), repr(error)
    assert type(error).__module__.startswith("b2_storage"), repr(error)


@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.parametrize("api", [*SMALL_UPLOAD, *LARGE_UPLOAD])
def test_upload_storm_is_retried(
    make_storage: MakeStorage, b2: LocalB2, bucket: str, api: str, status: int
) -> None:
    storage = make_storage()
    data = content_for(api)
    b2.fail_next(api, 3 if status == 503 else 1, status=status, retry_after=0)
    assert storage.save("storm.bin", ContentFile(data)) == "storm.bin"
    assert b2.faults_injected[str(status)] >= 1
    assert b2.calls[api] >= (4 if status == 503 else 2)
    with storage.open("storm.bin") as reader:
        assert reader.read() == data
    versions, unfinished = leftovers(b2, bucket)
    assert versions == ["storm.bin"]
    assert unfinished == []  # a retried large file leaves no unfinished one behind


@pytest.mark.parametrize("api", [*SMALL_UPLOAD, *LARGE_UPLOAD])
def test_upload_storm_past_retries_raises_and_leaves_nothing(
    make_storage: MakeStorage, b2: LocalB2, bucket: str, api: str
) -> None:
    storage = make_storage()
    b2.fail_next(api, 200, status=503, retry_after=0)
    started = time.monotonic()
    with pytest.raises(B2StorageError) as raised:
        storage.save("down.bin", ContentFile(content_for(api)))
    assert time.monotonic() - started < BOUND
    assert_ours(raised.value)
    b2.clear_faults()
    assert leftovers(b2, bucket) == ([], [])  # nothing visible, no unfinished large file
    assert not storage.exists("down.bin")


def test_upload_storm_of_429_past_retries_raises_unavailable(
    make_storage: MakeStorage, b2: LocalB2, bucket: str
) -> None:
    storage = make_storage()
    b2.fail_next("b2_upload_file", 200, status=429, retry_after=0)
    with pytest.raises(B2Unavailable) as raised:
        storage.save("throttled.txt", ContentFile(SMALL))
    assert_ours(raised.value)
    b2.clear_faults()
    assert leftovers(b2, bucket) == ([], [])


def test_mixed_storm_over_every_upload_api(
    make_storage: MakeStorage, b2: LocalB2, bucket: str
) -> None:
    storage = make_storage()
    for api in LARGE_UPLOAD:
        b2.fail_next(api, 1, status=503, retry_after=0)
    b2.drop_next("b2_upload_part", 1)
    b2.fail_next("b2_upload_part", 1, status=503, retry_after=0)
    assert storage.save("mixed.bin", ContentFile(LARGE)) == "mixed.bin"
    assert storage.open("mixed.bin").read() == LARGE
    assert leftovers(b2, bucket) == (["mixed.bin"], [])


# -- listing -------------------------------------------------------------------------------
@pytest.fixture
def many(make_storage: MakeStorage) -> MakeStorage:
    """Return the storage maker after saving 12 files under ``dir/``."""
    seed = make_storage()
    for index in range(12):
        seed.save(f"dir/f{index:02}.txt", ContentFile(b"x"))
    return make_storage


EXPECTED_LIST = ([], [f"f{index:02}.txt" for index in range(12)])


@pytest.mark.parametrize("status", [503, 429])
def test_listing_storm_is_retried(many: MakeStorage, b2: LocalB2, status: int) -> None:
    storage = many()
    b2.reset_calls()
    b2.fail_next("b2_list_file_names", 3, status=status, retry_after=0)
    assert storage.listdir("dir") == EXPECTED_LIST
    assert b2.calls["b2_list_file_names"] >= 4


def test_listing_storm_past_retries_raises_unavailable(many: MakeStorage, b2: LocalB2) -> None:
    storage = many()
    b2.fail_next("b2_list_file_names", 200, status=503, retry_after=0)
    started = time.monotonic()
    with pytest.raises(B2Unavailable) as raised:
        storage.listdir("dir")
    assert time.monotonic() - started < BOUND
    assert_ours(raised.value)
    assert all(type(e).__module__.startswith("b2_storage") for e in error_chain(raised.value))
    b2.clear_faults()
    assert storage.listdir("dir") == EXPECTED_LIST
