"""B2 stopped in the middle of a save (a fault's action stops the local server when the n-th
part, or the small file, arrives), then started again on the same port with the same data.

The save raises one of our exceptions within bounded time, and nothing of it is visible. B2's
semantics leave the unfinished large file behind when B2 is gone before the storage can cancel
it (cancelling needs B2 too); the next save of that name completes it or replaces it, and then
no unfinished large file remains.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile

from b2_storage import B2Storage, B2StorageError
from b2_storage.circuit import circuits
from b2_storage.emulator import LocalB2

from .conftest import PART, leftovers, payload

LARGE = payload(5 * PART + 9)  # six parts
BOUND = 30  # seconds: a save gives up within this


def storage_on(server: LocalB2, bucket: str) -> B2Storage:
    server.create_bucket(bucket)
    storage = B2Storage(**server.storage_options(bucket, part_size=PART, metadata_cache=False))
    storage.exists("warm-up")  # authorized, bucket known
    return storage


@pytest.mark.parametrize("nth", [1, 4])
def test_b2_stops_during_a_large_save(restartable: LocalB2, nth: int) -> None:
    b2 = restartable
    storage = storage_on(b2, "stopped-large")
    b2.on_call("b2_upload_part", b2.stop, nth=nth)
    started = time.monotonic()
    with pytest.raises(B2StorageError) as raised:
        storage.save("big.bin", ContentFile(LARGE))
    assert time.monotonic() - started < BOUND
    assert type(raised.value).__module__.startswith("b2_storage"), repr(raised.value)
    assert not b2.running
    b2.start()
    circuits.clear()  # stands for the back-off passing
    versions, unfinished = leftovers(b2, "stopped-large")
    assert versions == []  # nothing visible
    assert unfinished in ([], ["big.bin"])  # B2 was gone before the storage could cancel it
    assert not storage.exists("big.bin")
    assert storage.listdir("") == ([], [])
    assert storage.save("big.bin", ContentFile(LARGE)) == "big.bin"
    assert storage.open("big.bin").read() == LARGE
    assert leftovers(b2, "stopped-large") == (["big.bin"], [])


def test_b2_stops_during_a_small_save(restartable: LocalB2) -> None:
    b2 = restartable
    storage = storage_on(b2, "stopped-small")
    b2.on_call("b2_upload_file", b2.stop)
    started = time.monotonic()
    with pytest.raises(B2StorageError):
        storage.save("small.txt", ContentFile(b"small"))
    assert time.monotonic() - started < BOUND
    b2.start()
    circuits.clear()
    assert leftovers(b2, "stopped-small") == ([], [])
    assert not storage.exists("small.txt")
    assert storage.save("small.txt", ContentFile(b"small")) == "small.txt"


def test_b2_stops_before_the_large_file_is_finished(restartable: LocalB2) -> None:
    b2 = restartable
    storage = storage_on(b2, "stopped-finish")
    b2.on_call("b2_finish_large_file", b2.stop)
    with pytest.raises(B2StorageError):
        storage.save("big.bin", ContentFile(LARGE))
    b2.start()
    circuits.clear()
    versions, unfinished = leftovers(b2, "stopped-finish")
    assert versions == []
    assert unfinished in ([], ["big.bin"])
    assert storage.save("big.bin", ContentFile(LARGE)) == "big.bin"
    assert leftovers(b2, "stopped-finish") == (["big.bin"], [])
