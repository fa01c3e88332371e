"""Names B2's prefix tokens cannot widen: the names a storage creates never extend another live
name nor are extended by one, and the ``folder-per-file`` layout gives each file its own folder."""

from __future__ import annotations

import re

import pytest
import requests
from django.core.files.base import ContentFile

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2
from b2_storage.layout import FOLDER_ID_LENGTH, own_folder

from .conftest import MakeStorage

LIST = "b2_list_file_names"
FOLDER = f"[a-z2-7]{{{FOLDER_ID_LENGTH}}}"


def save(storage: B2Storage, name: str, data: bytes = b"x") -> str:
    return storage.save(name, ContentFile(data))


@pytest.mark.parametrize("allow_overwrite", [False, True])
@pytest.mark.parametrize(
    ("stored", "new", "moved"),
    [
        ("inv/notes.txt", "inv/n", True),  # the new name would be unsealed
        ("inv/notes.txt", "inv/notes.txt.bak", True),  # it would unseal the stored one
        ("inv/notes", "inv/notes.txt", True),
        ("inv/notes.txt", "inv/other.txt", False),
        ("inv/notes.txt", "inv/notes.pdf", False),
        ("inv/notes.txt", "other/n", False),
    ],
)
def test_a_name_that_would_extend_or_be_extended_moves_into_its_own_folder(
    make_storage: MakeStorage, stored: str, new: str, moved: bool, allow_overwrite: bool
) -> None:
    storage = make_storage(allow_overwrite=allow_overwrite)
    save(storage, stored)
    saved = save(storage, new)
    directory, _, base = new.rpartition("/")
    if moved:
        assert re.fullmatch(f"{re.escape(directory)}/{FOLDER}/{re.escape(base)}", saved), saved
    else:
        assert saved == new
    names = [stored, saved]
    assert not any(a != b and b.startswith(a) for a in names for b in names)


def test_an_equal_name_still_gets_djangos_alternative(make_storage: MakeStorage) -> None:
    storage = make_storage()
    save(storage, "a/report.pdf")
    assert re.fullmatch(r"a/report_[A-Za-z0-9]{7}\.pdf", save(storage, "a/report.pdf"))


def test_allow_overwrite_keeps_a_stored_name_but_never_adds_one_next_to_it(
    make_storage: MakeStorage, b2: LocalB2
) -> None:
    storage = make_storage(allow_overwrite=True)
    save(storage, "static/app.js", b"one")
    b2.reset_calls()
    assert save(storage, "static/app.js", b"two") == "static/app.js"
    # one list call finds the stored name itself; no exists() call
    assert b2.calls == {LIST: 1, "b2_upload_file": 1}
    with storage.open("static/app.js") as handle:
        assert handle.read() == b"two"
    moved = save(storage, "static/app.js.map")
    assert re.fullmatch(rf"static/{FOLDER}/app\.js\.map", moved), moved


def test_the_folder_per_file_layout(make_storage: MakeStorage, b2: LocalB2) -> None:
    storage = make_storage(layout="folder-per-file", location="media")
    b2.reset_calls()
    first = save(storage, "private/2026/n", b"mine")
    # the conflict check, one call per segment of "media/private/2026/<id>/n"; no exists() call
    assert b2.calls[LIST] == 5
    second = save(storage, "private/2026/n", b"again")
    assert re.fullmatch(f"private/2026/{FOLDER}/n", first) and first != second
    assert storage.token_prefix(first) == "media/" + first.rpartition("/")[0] + "/"
    save(storage, "private/2026/notes.txt", b"secret")
    url = storage.url(first)
    assert requests.get(url, timeout=10).content == b"mine"
    for other in (second, "private/2026/notes.txt"):
        swapped = url.replace(first, other)
        assert requests.get(swapped, timeout=10).status_code == 401, other


def test_names_saved_before_the_layout_keep_a_file_scope(make_storage: MakeStorage) -> None:
    flat = make_storage()
    old = save(flat, "docs/old.txt")
    assert make_storage(layout="folder-per-file").token_prefix(old) == old


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("a/abcdefghijklmnopqrst/x.txt", "a/abcdefghijklmnopqrst/"),
        ("abcdefghijklmnopqrst/x.txt", "abcdefghijklmnopqrst/"),
        ("a/abcdefghijklmnopqrs/x.txt", None),  # 19 characters
        ("a/ABCDEFGHIJKLMNOPQRST/x.txt", None),
        ("a/abcdefghijklmnopqrst/", None),
        ("x.txt", None),
    ],
)
def test_own_folder(name: str, folder: str | None) -> None:
    assert own_folder(name) == folder


def test_a_folder_that_extends_a_stored_file_is_refused(make_storage: MakeStorage) -> None:
    storage = make_storage()
    save(storage, "reports/2026")
    with pytest.raises(ValueError, match="its folder extends the stored file 'reports/2026'"):
        save(storage, "reports/2026-q1/x.pdf")
    with pytest.raises(ValueError, match="'reports/2026'"):
        save(storage, "reports/2026/x.pdf")
    assert save(storage, "reports/2025-q1/x.pdf") == "reports/2025-q1/x.pdf"


def test_a_new_folder_that_would_extend_a_short_name_is_drawn_again(
    make_storage: MakeStorage,
) -> None:
    storage = make_storage(layout="folder-per-file")
    make_storage(allow_overwrite=True).save("d/a", ContentFile(b"short"))
    saved = [save(storage, "d/x.txt") for _ in range(64)]  # about 2 ids start with "a"
    assert all(not name.startswith("d/a") for name in saved)
    assert len(set(saved)) == 64


@pytest.mark.parametrize(("key_prefix", "location"), [("docs/", "docs"), ("docs/in", "docs/inv")])
def test_a_key_limited_to_a_name_prefix_saves_and_still_moves_conflicts(
    b2: LocalB2, bucket: str, make_storage: MakeStorage, key_prefix: str, location: str
) -> None:
    """B2 refuses a listing that starts outside the key's name prefix: the conflict check lists
    from the key's prefix, where every name this storage can write lives."""
    caps = ["listBuckets", "listFiles", "readFiles", "writeFiles", "deleteFiles", "shareFiles"]
    key_id, key = b2.create_key(caps, bucket=bucket, name_prefix=key_prefix)
    limited = make_storage(application_key_id=key_id, application_key=key, location=location)
    first = save(limited, "invoice.pdf")
    assert first == "invoice.pdf" and limited.exists(first)
    second = save(limited, "invoice.pdf.bak")  # extends the first: moved into its own folder
    assert re.fullmatch(rf"{FOLDER}/invoice\.pdf\.bak", second), second
    assert save(limited, "invoice.pdf") != "invoice.pdf"  # the name is taken
