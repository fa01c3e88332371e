"""The account-info backends: each works, heals itself, and the shared one holds no key."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.test import override_settings

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2

from .conftest import MakeBucket


def file_cache(location: Path) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "b2": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(location),
        },
    }


@pytest.mark.parametrize("backend", ["django-cache", "sqlite", "memory"])
def test_each_backend_saves_and_reads(
    backend: str, b2: LocalB2, make_bucket: MakeBucket, tmp_path: Path
) -> None:
    account_info: dict[str, Any] = {"backend": backend}
    if backend == "sqlite":
        account_info["path"] = str(tmp_path / "account.sqlite")
    with override_settings(CACHES=file_cache(tmp_path / "cache")):
        storage = B2Storage(**b2.storage_options(make_bucket(), account_info=account_info))
        storage.save("hello.txt", ContentFile(b"hello"))
        with storage.open("hello.txt") as handle:
            assert handle.read() == b"hello"
    if backend == "sqlite":
        assert (tmp_path / "account.sqlite").stat().st_size > 0


def test_shared_cache_never_holds_the_application_key(
    b2: LocalB2, make_bucket: MakeBucket, tmp_path: Path
) -> None:
    location = tmp_path / "cache"
    with override_settings(CACHES=file_cache(location)):
        storage = B2Storage(**b2.storage_options(make_bucket()))
        storage.save("a.txt", ContentFile(b"a"))
        entries = list(location.iterdir())
        assert entries, "the account info should be in the shared cache"
        stored = b"".join(path.read_bytes() for path in entries)
        assert b2.application_key.encode() not in stored
        assert b2.application_key_id.encode() not in stored


def test_a_flushed_shared_cache_means_authorize_again(
    b2: LocalB2, make_bucket: MakeBucket, tmp_path: Path
) -> None:
    with override_settings(CACHES=file_cache(tmp_path / "cache")):
        storage = B2Storage(**b2.storage_options(make_bucket(), metadata_cache=False))
        storage.save("a.txt", ContentFile(b"a"))
        before = b2.calls["b2_authorize_account"]
        caches["b2"].clear()
        assert storage.exists("a.txt")
        assert b2.calls["b2_authorize_account"] == before + 1


def test_a_shared_cache_that_is_down_does_not_stop_the_storage(
    b2: LocalB2, make_bucket: MakeBucket, caplog: pytest.LogCaptureFixture
) -> None:
    down = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "b2": {"BACKEND": "tests.broken_cache.DownCache"},
    }
    with override_settings(CACHES=down):
        storage = B2Storage(**b2.storage_options(make_bucket()))
        storage.save("down.txt", ContentFile(b"still works"))
        with storage.open("down.txt") as handle:
            assert handle.read() == b"still works"
    assert "cache failed" in caplog.text or "could not write" in caplog.text
    assert b2.application_key not in caplog.text


def test_a_cache_alias_missing_from_caches_is_said_once_per_process(
    b2: LocalB2, make_bucket: MakeBucket, caplog: pytest.LogCaptureFixture
) -> None:
    alias = f"missing-{make_bucket()}"  # an alias this process has never warned about
    info = {"backend": "django-cache", "cache": alias}
    storage = B2Storage(**b2.storage_options(make_bucket()), account_info=info)
    with caplog.at_level(logging.WARNING, logger="b2_storage"):
        storage.save("once.txt", ContentFile(b"works without the cache"))
        with storage.open("once.txt") as handle:
            assert handle.read() == b"works without the cache"
        B2Storage(**b2.storage_options(make_bucket()), account_info=info).exists("x")
    said = [r for r in caplog.records if alias in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "ERROR"
    assert "is not in CACHES" in said[0].getMessage()
