"""B2Storage options: validation, settings defaults, identity, laziness and the metadata cache."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from b2sdk.v2 import B2Api
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import override_settings
from freezegun import freeze_time

from b2_storage import B2ConfigurationError, B2Storage
from b2_storage.emulator import LocalB2

from .conftest import PART, MakeStorage

SECRET = "SECRET-VALUE-1234567890"


def total_calls(server: LocalB2) -> int:
    return sum(server.calls.values())


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"colour": SECRET}, "colour"),
        ({"part_size": SECRET}, "part_size"),
        ({"application_key": 1234567890123}, "application_key"),
        ({"allow_overwrite": SECRET}, "allow_overwrite"),
        ({"part_size": True}, "part_size"),
        ({"file_info": {"owner": 1234567890123}}, "file_info"),
        ({"create_bucket": SECRET}, "create_bucket"),
        ({"location": "/media/"}, "location"),
    ],
)
def test_bad_option_names_the_key_not_the_value(
    b2: LocalB2, bucket: str, options: dict[str, Any], key: str
) -> None:
    with pytest.raises(B2ConfigurationError) as raised:
        B2Storage(**{**b2.storage_options(bucket), **options})
    message = str(raised.value)
    assert repr(key) in message
    assert SECRET not in message and "1234567890123" not in message
    assert b2.application_key not in message
    assert isinstance(raised.value, ImproperlyConfigured)


@pytest.mark.parametrize("missing", ["bucket", "application_key_id", "application_key"])
def test_missing_required_option(b2: LocalB2, bucket: str, missing: str) -> None:
    options = b2.storage_options(bucket)
    del options[missing]
    with pytest.raises(B2ConfigurationError, match=f"'{missing}' is required"):
        B2Storage(**options)


def test_settings_defaults_are_merged_with_kwargs(b2: LocalB2, bucket: str, sdk: B2Api) -> None:
    defaults = {**b2.storage_options(bucket), "part_size": PART + 1, "location": "from-settings"}
    with override_settings(B2_STORAGE=defaults):
        storage = B2Storage(location="from-kwargs")
        assert (storage.config.part_size, storage.config.location) == (PART + 1, "from-kwargs")
        assert storage.config.bucket == bucket
        storage.save("merged.txt", ContentFile(b"m"))
        assert not B2Storage().exists("merged.txt")  # the settings' location
        assert B2Storage(location="from-kwargs", metadata_cache=False).exists("merged.txt")
    names = [v.file_name for v, _ in sdk.get_bucket_by_name(bucket).ls("", recursive=True)]
    assert names == ["from-kwargs/merged.txt"]


def test_deconstruct(b2: LocalB2, bucket: str) -> None:
    options = b2.storage_options(bucket, location="media", part_size=PART)
    path, args, kwargs = B2Storage(**options).deconstruct()
    assert (path, args, kwargs) == ("b2_storage.B2Storage", (), options)


class ProjectStorage(B2Storage):
    """A project's own subclass: migrations import it from its own module."""


def test_deconstruct_records_each_class_under_its_public_path(b2: LocalB2, bucket: str) -> None:
    from b2_access import LoggedInStorage

    options = b2.storage_options(bucket, location="media")
    assert ProjectStorage(**options).deconstruct()[0] == f"{__name__}.ProjectStorage"
    assert LoggedInStorage(**options).deconstruct()[0] == "b2_access.LoggedInStorage"
    assert LoggedInStorage(**options).deconstruct()[2] == options  # as given, not merged


def test_equality(make_storage: MakeStorage, tmp_path: Any) -> None:
    storage = make_storage(location="media")
    assert storage == make_storage(location="media")
    assert hash(storage) == hash(make_storage(location="media"))
    assert storage != make_storage(location="other")
    assert storage != make_storage(location="media", allow_overwrite=True)
    assert storage != FileSystemStorage(location=tmp_path)


def test_repr_hides_the_application_key(make_storage: MakeStorage, b2: LocalB2) -> None:
    storage = make_storage(location="media")
    storage.save("r.txt", ContentFile(b"r"))
    for text in (repr(storage), str(storage), repr(storage.config), repr(storage.client)):
        assert b2.application_key not in text
    assert repr(storage) == f"B2Storage(bucket={storage.config.bucket!r}, location='media')"


def test_construction_makes_no_call(make_storage: MakeStorage, b2: LocalB2) -> None:
    make_storage(location="media", create_bucket=True)
    assert dict(b2.calls) == {}


def test_authorize_on_init(make_storage: MakeStorage, b2: LocalB2) -> None:
    make_storage(authorize_on_init=True)
    assert b2.calls["b2_authorize_account"] == 1


def test_validate_on_init_looks_the_bucket_up(make_storage: MakeStorage, b2: LocalB2) -> None:
    make_storage(validate_on_init=True)
    assert b2.calls["b2_list_buckets"] == 1
    with pytest.raises(B2ConfigurationError, match="no-such-bucket-1"):
        make_storage(bucket="no-such-bucket-1", validate_on_init=True)


def test_authorize_on_init_checks_the_part_size(make_storage: MakeStorage) -> None:
    with pytest.raises(B2ConfigurationError, match="'part_size' must be at least 100000"):
        make_storage(part_size=99_999, authorize_on_init=True)


def test_missing_bucket_is_named_on_first_use(make_storage: MakeStorage, b2: LocalB2) -> None:
    storage = make_storage(bucket="no-such-bucket-2")
    assert dict(b2.calls) == {}
    with pytest.raises(B2ConfigurationError, match="'no-such-bucket-2'") as raised:
        storage.exists("a.txt")
    assert "create_bucket" in str(raised.value)


@pytest.mark.parametrize(("create", "bucket_type"), [(True, "allPrivate"), ("allPublic",) * 2])
def test_create_bucket(
    make_storage: MakeStorage, sdk: B2Api, create: bool | str, bucket_type: str, b2: LocalB2
) -> None:
    name = f"created-{uuid.uuid4().hex}"
    storage = make_storage(bucket=name, create_bucket=create)
    assert sdk.list_buckets(bucket_name=name) == []
    storage.save("first.txt", ContentFile(b"first"))
    [created] = sdk.list_buckets(bucket_name=name)
    assert created.type_ == bucket_type
    assert [v.file_name for v, _ in created.ls("")] == ["first.txt"]
    assert b2.calls["b2_create_bucket"] == 1


def test_metadata_cache_saves_calls(make_storage: MakeStorage, b2: LocalB2) -> None:
    storage = make_storage()
    storage.save("cached.txt", ContentFile(b"12345"))
    b2.reset_calls()
    assert storage.size("cached.txt") == 5  # the save filled the cache
    assert storage.get_modified_time("cached.txt") is not None
    assert total_calls(b2) == 0
    # Decisions are never taken on the cache, and "missing" is never cached.
    assert storage.exists("cached.txt")
    assert not storage.exists("absent.txt") and not storage.exists("absent.txt")
    assert b2.calls["b2_download_file_by_name"] == 3
    assert total_calls(b2) == 3


def test_other_workers_writes_are_seen_by_decisions_and_reads(make_storage: MakeStorage) -> None:
    first, second = make_storage(), make_storage()  # two workers, two in-process caches
    assert not first.exists("shared.txt")
    second.save("shared.txt", ContentFile(b"short"))
    assert first.exists("shared.txt")
    assert first.get_available_name("shared.txt") != "shared.txt"  # no silent overwrite
    assert first.size("shared.txt") == 5
    second.delete("shared.txt")
    second.save("shared.txt", ContentFile(b"a much longer content"))
    with first.open("shared.txt") as handle:
        assert handle.read() == b"a much longer content"


def test_without_metadata_cache_every_lookup_calls(make_storage: MakeStorage, b2: LocalB2) -> None:
    storage = make_storage(metadata_cache=False)
    storage.save("uncached.txt", ContentFile(b"12345"))
    b2.reset_calls()
    assert storage.exists("uncached.txt") and storage.exists("uncached.txt")
    assert b2.calls["b2_download_file_by_name"] == 2


def test_own_writes_invalidate_the_cache(make_storage: MakeStorage) -> None:
    storage = make_storage(allow_overwrite=True)
    assert not storage.exists("w.txt")
    storage.save("w.txt", ContentFile(b"one"))
    assert storage.exists("w.txt") and storage.size("w.txt") == 3
    storage.save("w.txt", ContentFile(b"three"))
    assert storage.size("w.txt") == 5
    with storage.open("w.txt", "wb") as f:
        f.write(b"seven!!")
    assert storage.size("w.txt") == 7
    storage.delete("w.txt")
    assert not storage.exists("w.txt")


def test_metadata_cache_expires(make_storage: MakeStorage, b2: LocalB2) -> None:
    with freeze_time("2030-01-01 12:00:00") as frozen:
        storage = make_storage(metadata_cache={"ttl": 5, "maxsize": 10})
        other = make_storage(metadata_cache=False, allow_overwrite=True)
        storage.save("ttl.txt", ContentFile(b"1"))
        other.save("ttl.txt", ContentFile(b"22"))
        assert storage.size("ttl.txt") == 1  # stale, within the TTL
        frozen.tick(6)
        assert storage.size("ttl.txt") == 2


def test_migrations_leave_out_credentials_that_settings_hold(b2: LocalB2, bucket: str) -> None:
    options = b2.storage_options(bucket)
    with override_settings(
        B2_STORAGE={
            "application_key_id": b2.application_key_id,
            "application_key": b2.application_key,
        }
    ):
        path, args, kwargs = B2Storage(**options).deconstruct()
    assert path == "b2_storage.B2Storage"
    assert "application_key" not in kwargs and "application_key_id" not in kwargs
    assert kwargs["bucket"] == bucket


def test_private_urls_are_reused_for_half_their_life(
    make_storage: MakeStorage, b2: LocalB2
) -> None:
    storage = make_storage(url_expires=600)
    storage.save("u.txt", ContentFile(b"u"))
    with freeze_time() as frozen:
        b2.reset_calls()
        first = storage.url("u.txt")
        assert storage.url("u.txt") == first
        assert b2.calls["b2_get_download_authorization"] == 1
        frozen.tick(301)
        assert storage.url("u.txt") != first
        assert b2.calls["b2_get_download_authorization"] == 2


def test_a_typo_in_a_signed_storage_lists_its_access_options_too(b2: LocalB2, bucket: str) -> None:
    from b2_access import LoggedInStorage

    with pytest.raises(B2ConfigurationError, match="Unknown LoggedInStorage option 'teir'") as e:
        LoggedInStorage(**b2.storage_options(bucket), teir="staff")
    assert "tier" in str(e.value) and "bucket" in str(e.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expires": True}, "option 'expires' must be int or None, got bool"),
        ({"attachment": "yes"}, "option 'attachment' must be bool, got str"),
        ({"link_timeout": True}, "option 'link_timeout' must be a number, got bool"),
        ({"metadata_cache": 3}, "option 'metadata_cache' must be a dict or bool, got int"),
    ],
)
def test_one_validator_reads_the_types_from_the_dataclasses(
    b2: LocalB2, bucket: str, options: dict[str, Any], message: str
) -> None:
    from b2_access import LoggedInStorage

    with pytest.raises(B2ConfigurationError, match=message):
        LoggedInStorage(**b2.storage_options(bucket), **options)


def test_b2_access_settings_use_the_same_validator() -> None:
    from b2_access.conf import parse_access_settings

    with pytest.raises(ImproperlyConfigured, match=r"B2_ACCESS\['expires'\] must be int, got bool"):
        parse_access_settings({"expires": True})
    with pytest.raises(ImproperlyConfigured, match=r"B2_ACCESS\['cache'\] must be str or None"):
        parse_access_settings({"cache": 1})
    with pytest.raises(ImproperlyConfigured, match="Unknown B2_ACCESS key 'expire'"):
        parse_access_settings({"expire": 5})
