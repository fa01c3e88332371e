"""B2Storage against expired tokens, a lost auth cache, 503/429 answers and dropped connections."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from b2sdk.v2 import B2Api, Bucket
from django.core.cache import caches
from django.core.files.base import ContentFile

from b2_storage import B2StorageError, B2Unavailable
from b2_storage.emulator import LocalB2

from .conftest import PART, MakeStorage, payload

LARGE = payload(2 * PART + 1)

# What each storage operation calls on B2, for the fault tables below.
OPERATIONS: dict[str, Callable[[Any], Any]] = {
    "listdir": lambda storage: storage.listdir("dir"),
    "exists": lambda storage: storage.exists("dir/seed.txt"),
    "read": lambda storage: storage.open("dir/seed.txt").read(),
    "save": lambda storage: storage.save("dir/new.txt", ContentFile(b"new")),
    "save_large": lambda storage: storage.save("dir/large.bin", ContentFile(LARGE)),
}
API_OF = {
    "listdir": "b2_list_file_names",
    "exists": "b2_download_file_by_name",
    "read": "b2_download_file_by_name",
    "save": "b2_upload_file",
    "save_large": "b2_upload_part",
}
EXPECTED = {
    "listdir": ([], ["seed.txt"]),
    "exists": True,
    "read": b"seed",
    "save": "dir/new.txt",
    "save_large": "dir/large.bin",
}


@pytest.fixture
def seeded(make_storage: MakeStorage, b2: LocalB2) -> Any:
    """Return a storage (no metadata cache) holding dir/seed.txt, with call counts reset."""
    storage = make_storage(metadata_cache=False)
    storage.save("dir/seed.txt", ContentFile(b"seed"))
    b2.reset_calls()
    return storage


def secrets_of(storage: Any, b2: LocalB2) -> list[str]:
    info = storage.client.api.account_info
    return [b2.application_key, info.get_account_auth_token()]


def error_texts(error: BaseException) -> str:
    """Return str() and repr() of an error and of every error it was raised from."""
    texts = []
    current: BaseException | None = error
    while current is not None:
        texts += [str(current), repr(current), *map(str, current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_expired_tokens_are_renewed(seeded: Any, b2: LocalB2, operation: str) -> None:
    b2.expire_tokens()
    assert OPERATIONS[operation](seeded) == EXPECTED[operation]
    assert b2.calls["b2_authorize_account"] == 1


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_lost_auth_cache_is_rebuilt(seeded: Any, b2: LocalB2, operation: str) -> None:
    caches["b2"].clear()
    assert OPERATIONS[operation](seeded) == EXPECTED[operation]
    assert b2.calls["b2_authorize_account"] == 1


def test_lost_auth_cache_before_the_first_bucket_lookup(
    make_storage: MakeStorage, b2: LocalB2
) -> None:
    make_storage().exists("warm-up.txt")
    caches["b2"].clear()
    storage = make_storage(location="fresh")
    assert storage.save("a.txt", ContentFile(b"a")) == "a.txt"
    assert storage.listdir("") == ([], ["a.txt"])


@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_transient_errors_are_retried(
    seeded: Any, b2: LocalB2, operation: str, status: int
) -> None:
    b2.fail_next(API_OF[operation], 2, status=status, retry_after=0)
    assert OPERATIONS[operation](seeded) == EXPECTED[operation]
    assert b2.calls[API_OF[operation]] >= 3


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_dropped_connections_are_retried(seeded: Any, b2: LocalB2, operation: str) -> None:
    b2.drop_next(API_OF[operation], 1)
    assert OPERATIONS[operation](seeded) == EXPECTED[operation]
    assert b2.calls[API_OF[operation]] >= 2


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_b2_down_raises_unavailable(seeded: Any, b2: LocalB2, operation: str) -> None:
    b2.fail_next(API_OF[operation], 50, status=503, retry_after=0)
    started = time.monotonic()
    with pytest.raises(B2Unavailable) as raised:
        OPERATIONS[operation](seeded)
    assert time.monotonic() - started < 20
    assert type(raised.value).__module__.startswith("b2_storage")
    texts = error_texts(raised.value)
    for secret in secrets_of(seeded, b2):
        assert secret not in texts


def test_failed_large_upload_leaves_nothing(
    make_storage: MakeStorage, b2: LocalB2, sdk_bucket: Bucket, sdk: B2Api
) -> None:
    storage = make_storage(metadata_cache=False)
    b2.fail_next("b2_finish_large_file", 50, retry_after=0)
    with pytest.raises(B2StorageError) as raised:
        storage.save("big.bin", ContentFile(payload(2 * PART + 1)))
    assert b2.calls["b2_start_large_file"] >= 1
    assert list(sdk_bucket.list_unfinished_large_files()) == []
    assert list(sdk_bucket.list_file_versions("big.bin")) == []
    assert not storage.exists("big.bin")
    assert storage.listdir("") == ([], [])
    texts = error_texts(raised.value)
    for secret in secrets_of(storage, b2):
        assert secret not in texts
    b2.clear_faults()
    assert storage.save("big.bin", ContentFile(payload(2 * PART + 1))) == "big.bin"
    assert storage.size("big.bin") == 2 * PART + 1


def test_failed_small_upload_leaves_nothing(
    make_storage: MakeStorage, b2: LocalB2, sdk_bucket: Bucket
) -> None:
    storage = make_storage(metadata_cache=False)
    b2.fail_next("b2_upload_file", 50, retry_after=0)
    with pytest.raises(B2Unavailable):
        storage.save("small.txt", ContentFile(b"small"))
    assert list(sdk_bucket.list_file_versions("small.txt")) == []
    assert not storage.exists("small.txt")
