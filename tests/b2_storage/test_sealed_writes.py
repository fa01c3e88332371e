"""The names a storage writes never unseal another: an earlier B2 URL (a name-prefix token,
cached for up to 15 minutes) never opens a file written later, whether saved with
``allow_overwrite`` or written through ``open(name, "w")``; overwriting a name still works."""

from __future__ import annotations

import re

import pytest
from b2sdk.v2 import Bucket
from django.core.files.base import ContentFile

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2
from b2_storage.exceptions import B2InvalidName
from b2_storage.layout import FOLDER_ID_LENGTH

from ..b2urls import b2_get
from .conftest import MakeStorage

LIST = "b2_list_file_names"
FOLDER = f"[a-z2-7]{{{FOLDER_ID_LENGTH}}}"


def write(storage: B2Storage, name: str, data: bytes) -> None:
    with storage.open(name, "wb") as handle:
        handle.write(data)


def read(storage: B2Storage, name: str) -> bytes:
    with storage.open(name) as handle:
        return bytes(handle.read())


# -- allow_overwrite ---------------------------------------------------------------------------
@pytest.mark.parametrize("location", ["", "media"])
def test_allow_overwrite_never_lets_an_earlier_url_open_a_new_file(
    make_storage: MakeStorage, location: str
) -> None:
    storage = make_storage(allow_overwrite=True, location=location)
    storage.save("2026/n", ContentFile(b"mine"))
    url = storage.url("2026/n")  # a token for the B2 names starting with ".../2026/n"
    saved = storage.save("2026/notes.txt", ContentFile(b"secret"))
    assert re.fullmatch(f"2026/{FOLDER}/notes.txt", saved), saved
    assert b2_get(url).content == b"mine"
    prefix = f"{location}/" if location else ""
    stolen = b2_get(url, prefix + saved)
    assert stolen.status_code == 401 and b"secret" not in stolen.content
    assert b2_get(url, prefix + "2026/notes.txt").status_code == 404  # covered, but not there
    assert read(storage, saved) == b"secret"


def test_allow_overwrite_moves_a_name_that_a_stored_one_extends(
    make_storage: MakeStorage,
) -> None:
    storage = make_storage(allow_overwrite=True)
    storage.save("2026/notes.txt", ContentFile(b"notes"))
    saved = storage.save("2026/n", ContentFile(b"n"))
    assert re.fullmatch(f"2026/{FOLDER}/n", saved), saved
    url = storage.url(saved)  # sealed: a token of its own, which opens nothing else
    assert b2_get(url).content == b"n"
    assert b2_get(url, "2026/notes.txt").status_code == 401


def test_allow_overwrite_still_overwrites_the_same_name(
    make_storage: MakeStorage, sdk_bucket: Bucket
) -> None:
    storage = make_storage(allow_overwrite=True)
    assert storage.save("2026/n", ContentFile(b"one")) == "2026/n"
    url = storage.url("2026/n")
    assert storage.save("2026/n", ContentFile(b"two")) == "2026/n"
    assert read(storage, "2026/n") == b"two" and b2_get(url).content == b"two"
    # A pair written by another tool is unsealed already; overwriting either adds no name.
    sdk_bucket.upload_bytes(b"other tool", "2026/notes.txt")
    assert storage.save("2026/notes.txt", ContentFile(b"three")) == "2026/notes.txt"
    assert storage.save("2026/n", ContentFile(b"four")) == "2026/n"
    assert (read(storage, "2026/notes.txt"), read(storage, "2026/n")) == (b"three", b"four")
    assert storage.listdir("2026") == ([], ["n", "notes.txt"])


# -- open(name, "w") ---------------------------------------------------------------------------
@pytest.mark.parametrize("allow_overwrite", [False, True])
def test_open_for_writing_refuses_a_name_an_earlier_url_would_open(
    make_storage: MakeStorage, b2: LocalB2, allow_overwrite: bool
) -> None:
    storage = make_storage(allow_overwrite=allow_overwrite)
    storage.save("docs/q/invoice", ContentFile(b"invoice"))
    url = storage.url("docs/q/invoice")
    b2.reset_calls()
    with pytest.raises(B2InvalidName) as refused:
        storage.open("docs/q/invoice-2025-salary.pdf", "wb")
    assert set(b2.calls) == {LIST} and b2.calls[LIST] <= 3  # a call per segment at most
    message = str(refused.value)
    assert "'docs/q/invoice-2025-salary.pdf'" in message and "'docs/q/invoice'" in message
    assert "a download token for one would open the other" in message
    assert "save()" in message and "folder-per-file" in message
    assert isinstance(refused.value, ValueError)
    assert not storage.exists("docs/q/invoice-2025-salary.pdf")
    assert b2_get(url, "docs/q/invoice-2025-salary.pdf").status_code == 404
    assert b2_get(url).content == b"invoice"


def test_open_for_writing_refuses_a_name_a_stored_one_extends(make_storage: MakeStorage) -> None:
    storage = make_storage()
    storage.save("docs/q/invoice-2025-salary.pdf", ContentFile(b"salary"))
    with pytest.raises(ValueError, match="is the start of the stored file") as refused:
        storage.open("docs/q/invoice", "w")
    assert "'docs/q/invoice'" in str(refused.value)
    assert "'docs/q/invoice-2025-salary.pdf'" in str(refused.value)
    assert not storage.exists("docs/q/invoice")


@pytest.mark.parametrize("allow_overwrite", [False, True])
def test_open_for_writing_overwrites_the_same_name(
    make_storage: MakeStorage, sdk_bucket: Bucket, allow_overwrite: bool
) -> None:
    storage = make_storage(allow_overwrite=allow_overwrite)
    write(storage, "docs/q/invoice", b"first")  # a new, sealed name
    url = storage.url("docs/q/invoice")
    write(storage, "docs/q/invoice", b"second")
    assert read(storage, "docs/q/invoice") == b"second" == b2_get(url).content
    sdk_bucket.upload_bytes(b"other tool", "docs/q/invoice-2025.pdf")  # unsealed already
    write(storage, "docs/q/invoice", b"third")
    write(storage, "docs/q/invoice-2025.pdf", b"fourth")
    assert read(storage, "docs/q/invoice") == b"third"
    assert read(storage, "docs/q/invoice-2025.pdf") == b"fourth"


def test_open_for_writing_in_the_folder_per_file_layout(make_storage: MakeStorage) -> None:
    storage = make_storage(layout="folder-per-file", location="media")
    first = storage.save("private/2026/n", ContentFile(b"mine"))
    folder = first.rpartition("/")[0]
    url = storage.url(first)  # a token for its folder
    with pytest.raises(B2InvalidName, match=f"shares the folder 'media/{folder}/'") as refused:
        storage.open(f"{folder}/x.txt", "wb")
    assert f"'{folder}/x.txt'" in str(refused.value)
    assert f"'media/{first}'" in str(refused.value) and "save()" in str(refused.value)
    with pytest.raises(B2InvalidName, match="shares the folder"):
        storage.open(f"{folder}/sub/x.txt", "wb")  # the folder's token covers it too
    assert b2_get(url, f"media/{folder}/x.txt").status_code == 404
    write(storage, first, b"again")  # the same name: an overwrite
    assert b2_get(url).content == b"again"
    write(storage, "private/2026/other.txt", b"other")  # no other file's token covers it
    assert b2_get(url, "media/private/2026/other.txt").status_code == 401
    assert read(storage, "private/2026/other.txt") == b"other"


def test_an_allpublic_bucket_keeps_names_side_by_side(
    make_storage: MakeStorage, b2: LocalB2
) -> None:
    """Static files (collectstatic saves ``app.js`` and ``app.js.map`` with allow_overwrite):
    on an allPublic bucket every file is public and no link carries a token to widen."""
    bucket = "static-files-side-by-side"
    b2.create_bucket(bucket, "allPublic")
    storage = make_storage(bucket=bucket, allow_overwrite=True)
    assert storage.save("static/app.js", ContentFile(b"js")) == "static/app.js"
    assert storage.save("static/app.js.map", ContentFile(b"map")) == "static/app.js.map"
    write(storage, "static/app.js.gz", b"gz")
    assert storage.listdir("static") == ([], ["app.js", "app.js.gz", "app.js.map"])
