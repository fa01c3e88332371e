"""B2File behaves like a local file around close."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from .conftest import MakeStorage


def test_io_after_close_raises(make_storage: MakeStorage) -> None:
    storage = make_storage()
    storage.save("c.txt", ContentFile(b"xy"))
    handle = storage.open("c.txt")
    assert handle.read() == b"xy"
    handle.close()
    assert handle.closed
    with pytest.raises(ValueError, match="closed"):
        handle.read()
    handle.open()
    assert handle.read() == b"xy"
    handle.close()


def test_writing_after_close_raises_and_nothing_is_lost(make_storage: MakeStorage) -> None:
    storage = make_storage()
    handle = storage.open("w.txt", "wb")
    handle.write(b"one")
    handle.close()
    with pytest.raises(ValueError, match="closed"):
        handle.write(b"two")
    with storage.open("w.txt") as reread:
        assert reread.read() == b"one"


def test_a_file_opened_for_writing_and_closed_empty_exists(make_storage: MakeStorage) -> None:
    storage = make_storage()
    storage.open("empty.txt", "wb").close()
    assert storage.exists("empty.txt")
    assert storage.size("empty.txt") == 0


@pytest.mark.parametrize("mode", ["ab", "r+b", "x"])
def test_unsupported_modes_are_refused(make_storage: MakeStorage, mode: str) -> None:
    with pytest.raises(ValueError, match="reading"):
        make_storage().open("m.txt", mode)
