"""Account tokens that expire in the middle of an operation: between the parts of a large file,
between the pages of a listing, and upload tokens refused with 401 ``expired_auth_token``.

b2sdk authorizes again (from the storage's settings: never a permanent failure) and goes on;
the operation succeeds, with one more ``b2_authorize_account``.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from b2_storage.emulator import LocalB2

from .conftest import PART, MakeStorage, leftovers, payload

LARGE = payload(4 * PART + 5)  # five parts


@pytest.mark.parametrize("after_part", [1, 3])
def test_tokens_expire_between_parts(
    make_storage: MakeStorage, b2: LocalB2, bucket: str, after_part: int
) -> None:
    storage = make_storage()
    storage.exists("warm-up")  # authorized before the upload starts
    b2.reset_calls()
    b2.expire_after("b2_upload_part", after_part)
    assert storage.save("big.bin", ContentFile(LARGE)) == "big.bin"
    assert b2.faults_injected["trigger"] >= 1
    # Renewed from the settings: once by each upload thread that met the expired token.
    assert b2.calls["b2_authorize_account"] >= 1
    assert storage.open("big.bin").read() == LARGE
    assert leftovers(b2, bucket) == (["big.bin"], [])


def test_tokens_expire_after_the_large_file_starts(
    make_storage: MakeStorage, b2: LocalB2, bucket: str
) -> None:
    storage = make_storage()
    storage.exists("warm-up")
    b2.reset_calls()
    b2.expire_after("b2_start_large_file")
    assert storage.save("big.bin", ContentFile(LARGE)) == "big.bin"
    assert b2.calls["b2_authorize_account"] >= 1
    assert storage.open("big.bin").read() == LARGE
    assert leftovers(b2, bucket) == (["big.bin"], [])


@pytest.mark.parametrize("api", ["b2_upload_part", "b2_upload_file"])
def test_upload_token_refused_as_expired(
    make_storage: MakeStorage, b2: LocalB2, bucket: str, api: str
) -> None:
    storage = make_storage()
    data = LARGE if api == "b2_upload_part" else b"small"
    b2.fail_next(api, 2, status=401)  # the upload URL's token expired: get a new URL
    assert storage.save("f.bin", ContentFile(data)) == "f.bin"
    assert b2.calls[api] >= 3
    assert storage.open("f.bin").read() == data
    assert leftovers(b2, bucket) == (["f.bin"], [])


@pytest.mark.parametrize("api", ["b2_get_upload_part_url", "b2_finish_large_file"])
def test_account_token_refused_as_expired_mid_upload(
    make_storage: MakeStorage, b2: LocalB2, bucket: str, api: str
) -> None:
    storage = make_storage()
    storage.exists("warm-up")
    b2.reset_calls()
    b2.fail_next(api, 1, status=401)
    assert storage.save("f.bin", ContentFile(LARGE)) == "f.bin"
    assert b2.calls["b2_authorize_account"] >= 1
    assert storage.open("f.bin").read() == LARGE
    assert leftovers(b2, bucket) == (["f.bin"], [])


@pytest.fixture
def folders(make_storage: MakeStorage, b2: LocalB2) -> MakeStorage:
    """Save files in four sub-folders of ``dir/`` and beside them, and make the server answer
    listings two entries a page: ``listdir("dir")`` then takes several pages."""
    seed = make_storage()
    for folder in "abcd":
        seed.save(f"dir/{folder}/inner.txt", ContentFile(b"x"))
    for index in range(3):
        seed.save(f"dir/f{index}.txt", ContentFile(b"x"))
    b2.limit_pages(2)
    return make_storage


EXPECTED_DIR = (["a", "b", "c", "d"], ["f0.txt", "f1.txt", "f2.txt"])


def test_listing_pages_are_several(folders: MakeStorage, b2: LocalB2) -> None:
    storage = folders()
    storage.exists("warm-up")
    b2.reset_calls()
    assert storage.listdir("dir") == EXPECTED_DIR
    assert b2.calls["b2_list_file_names"] >= 3  # else the tests below prove nothing


@pytest.mark.parametrize("page", [1, 2])
def test_tokens_expire_between_listing_pages(folders: MakeStorage, b2: LocalB2, page: int) -> None:
    storage = folders()
    storage.exists("warm-up")
    b2.reset_calls()
    b2.expire_after("b2_list_file_names", page)
    assert storage.listdir("dir") == EXPECTED_DIR
    assert b2.faults_injected["trigger"] >= 1
    assert b2.calls["b2_authorize_account"] == 1


def test_listing_page_refused_as_expired(folders: MakeStorage, b2: LocalB2) -> None:
    storage = folders()
    storage.exists("warm-up")
    b2.reset_calls()
    b2.on_call("b2_list_file_names", lambda: b2.fail_next("b2_list_file_names", 1, status=401))
    assert storage.listdir("dir") == EXPECTED_DIR
    assert b2.calls["b2_authorize_account"] == 1
