"""System checks E010 (tier isolation), E011 (scope coverage) and E017 (layouts): B2 download
tokens cover a name prefix, so storages that hand out different access must not share one; and
what a running process does when the checks were never run.

The registry of signed storages is process-wide and other tests fill it: each test here uses
buckets of its own and looks only at the messages that name them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import CheckMessage, run_checks
from django.test import override_settings

from b2_access import LoggedInStorage, PublicStorage, StaffStorage
from b2_storage.emulator import LocalB2

from .conftest import MakeStorage, new_bucket

E010 = "b2_access.E010"
E011 = "b2_access.E011"
E017 = "b2_access.E017"


def isolation(*buckets: str) -> list[CheckMessage]:
    """Return the E010, E011 and E017 messages that name one of ``buckets``."""
    return [
        m
        for m in run_checks(tags=["b2_access"])
        if m.id in (E010, E011, E017) and any(repr(b) in m.msg for b in buckets)
    ]


def ids(*buckets: str) -> list[str]:
    return sorted(str(m.id) for m in isolation(*buckets))


def entry(b2_server: LocalB2, backend: str, bucket: str, **options: Any) -> dict[str, Any]:
    """Return a ``STORAGES`` entry for ``backend`` on ``bucket`` of the local server."""
    return {"BACKEND": backend, "OPTIONS": b2_server.storage_options(bucket, **options)}


# -- E010: tier isolation ------------------------------------------------------------------------
def test_readme_setup_plus_a_staff_storage_without_location_is_e010(
    b2_server: LocalB2, bucket: str
) -> None:
    stores = {
        "default": entry(b2_server, "b2_access.LoggedInStorage", bucket),
        "staff": entry(b2_server, "b2_access.StaffStorage", bucket),
    }
    with override_settings(STORAGES=stores):
        b2_server.reset_calls()
        [message] = isolation(bucket)
        assert sum(b2_server.calls.values()) == 0  # no network in these checks
    assert message.id == E010
    assert "STORAGES['default']" in message.msg and "STORAGES['staff']" in message.msg
    assert "'logged_in'" in message.msg and "'staff'" in message.msg
    assert f"bucket {bucket!r}" in message.msg
    assert message.hint is not None and '"docs" and "staff-docs"' in message.hint
    assert b2_server.application_key not in message.msg


def test_the_documented_setup_with_a_second_tier_passes(b2_server: LocalB2, bucket: str) -> None:
    """docs/access.md's set-up (LoggedInStorage at "docs") plus its StaffStorage beside it."""
    stores = {
        "default": entry(b2_server, "b2_access.LoggedInStorage", bucket, location="docs"),
        "reports": entry(b2_server, "b2_access.StaffStorage", bucket, location="staff-reports"),
    }
    with override_settings(STORAGES=stores):
        assert isolation(bucket) == []


def test_e010_names_storage_instances_by_repr(make_storage: MakeStorage, bucket: str) -> None:
    logged_in = make_storage(LoggedInStorage)
    staff = make_storage(StaffStorage, location="staff")
    [message] = isolation(bucket)
    assert message.id == E010
    assert repr(logged_in) in message.msg and repr(staff) in message.msg


def test_a_file_field_storage_is_checked_against_storages(
    b2_server: LocalB2, make_storage: MakeStorage, bucket: str
) -> None:
    staff = make_storage(StaffStorage)  # as a FileField(storage=...) would, at import time
    with override_settings(
        STORAGES={"default": entry(b2_server, "b2_access.LoggedInStorage", bucket)}
    ):
        [message] = isolation(bucket)
    assert message.id == E010
    assert "STORAGES['default']" in message.msg and repr(staff) in message.msg


@pytest.mark.parametrize(
    ("first", "second"),
    [("docs", "staff"), ("docs", "docs2"), ("docs", "staff-docs"), ("a/b", "a/bc")],
)
def test_prefix_disjoint_locations_pass(
    make_storage: MakeStorage, bucket: str, first: str, second: str
) -> None:
    make_storage(LoggedInStorage, location=first)
    make_storage(StaffStorage, location=second)
    make_storage(PublicStorage, location=f"{second}-public", scope="bucket")
    assert ids(bucket) == []


@pytest.mark.parametrize(("first", "second"), [("", "staff"), ("docs", "docs/staff")])
def test_nested_locations_of_different_tiers_are_e010(
    make_storage: MakeStorage, bucket: str, first: str, second: str
) -> None:
    make_storage(LoggedInStorage, location=first)
    make_storage(StaffStorage, location=second)
    assert ids(bucket) == [E010]


@pytest.mark.parametrize("difference", [{"attachment": True}, {"expires": 60}])
def test_same_tier_and_scope_may_share_a_location(
    b2_server: LocalB2, bucket: str, difference: dict[str, Any]
) -> None:
    stores = {
        "docs": entry(b2_server, "b2_access.LoggedInStorage", bucket, location="docs"),
        "downloads": entry(
            b2_server, "b2_access.LoggedInStorage", bucket, location="docs", **difference
        ),
    }
    with override_settings(STORAGES=stores):
        assert ids(bucket) == []


def test_a_different_scope_on_the_same_location_is_e010(
    make_storage: MakeStorage, bucket: str
) -> None:
    make_storage(LoggedInStorage, location="docs")
    make_storage(LoggedInStorage, location="docs", scope="bucket")
    [message] = isolation(bucket)
    assert message.id == E010
    assert "scope 'file'" in message.msg and "scope 'bucket'" in message.msg


def test_equal_storages_are_reported_once_under_their_alias(
    b2_server: LocalB2, make_storage: MakeStorage, bucket: str
) -> None:
    twin = make_storage(LoggedInStorage)  # equal to STORAGES['default'] below
    make_storage(StaffStorage, location="staff")
    with override_settings(
        STORAGES={"default": entry(b2_server, "b2_access.LoggedInStorage", bucket)}
    ):
        [message] = isolation(bucket)
    assert "STORAGES['default']" in message.msg and repr(twin) not in message.msg


def test_a_storage_that_fails_to_build_is_only_e005(b2_server: LocalB2, bucket: str) -> None:
    stores = {
        "broken": entry(b2_server, "b2_access.LoggedInStorage", bucket, tier=5),
        "plain": entry(b2_server, "b2_storage.B2Storage", bucket, bogus=1),
        "staff": entry(b2_server, "b2_access.StaffStorage", bucket),
    }
    with override_settings(STORAGES=stores):
        messages = run_checks(tags=["b2_access"])
    assert [m.id for m in messages if "'broken'" in m.msg] == ["b2_access.E005"]
    assert not [m for m in messages if "'plain'" in m.msg]
    assert ids(bucket) == []


def test_two_instances_differing_only_in_tier_are_e010(
    make_storage: MakeStorage, bucket: str
) -> None:
    kept = [make_storage(LoggedInStorage), make_storage(StaffStorage)]  # live, as a field's are
    assert ids(bucket) == [E010]
    assert kept


# -- E011: scope coverage ------------------------------------------------------------------------
def test_a_bucket_scope_without_location_covering_another_storage_is_e011(
    make_storage: MakeStorage, bucket: str
) -> None:
    public = make_storage(PublicStorage, scope="bucket")
    docs = make_storage(LoggedInStorage, location="docs")
    [message] = [m for m in isolation(bucket) if m.id == E011]
    assert f"{public!r} (tier 'public', scope 'bucket', location '')" in message.msg
    assert "every name in the bucket" in message.msg
    assert repr(docs) in message.msg


def test_a_prefix_scope_covering_another_location_is_e011(
    make_storage: MakeStorage, bucket: str
) -> None:
    avatars = make_storage(PublicStorage, scope="av")
    private = make_storage(StaffStorage, location="avatars-private")
    [message] = [m for m in isolation(bucket) if m.id == E011]
    assert repr(avatars) in message.msg and repr(private) in message.msg
    assert "every name starting with 'av'" in message.msg


@pytest.mark.parametrize(
    ("scope", "other", "expected"),
    [
        ("av", "pub/avatars-private", [E010, E011]),  # "pub/av" covers "pub/avatars-private/"
        ("av", "pub-avatars", []),  # "pub/av" and "pub-avatars/" are disjoint
        ("bucket", "pub-avatars", []),  # "pub/" and "pub-avatars/" too
        ("avatars/", "pub/avatars", [E010, E011]),
        ("avatars/", "pub/avatars2", [E010]),  # its token stops at "pub/avatars/"
    ],
)
def test_a_scope_inside_a_location(
    make_storage: MakeStorage, bucket: str, scope: str, other: str, expected: list[str]
) -> None:
    make_storage(PublicStorage, location="pub", scope=scope)
    make_storage(StaffStorage, location=other)
    assert ids(bucket) == expected


def test_a_plain_b2_storage_in_storages_is_covered(b2_server: LocalB2, bucket: str) -> None:
    stores = {
        "public": entry(b2_server, "b2_access.PublicStorage", bucket, scope="bucket"),
        "media": entry(b2_server, "b2_storage.B2Storage", bucket, location="media"),
    }
    with override_settings(STORAGES=stores):
        [message] = isolation(bucket)
    assert message.id == E011  # a plain B2Storage has no tier: E010 is about signed ones
    assert "STORAGES['public']" in message.msg and "STORAGES['media']" in message.msg


# -- what is never compared ----------------------------------------------------------------------
@pytest.mark.parametrize("elsewhere", ["bucket", "realm"])
def test_storages_on_different_buckets_or_realms_are_not_compared(
    b2_server: LocalB2, bucket: str, elsewhere: str
) -> None:
    other = new_bucket(b2_server) if elsewhere == "bucket" else bucket
    realm = {"realm": "http://127.0.0.1:9"} if elsewhere == "realm" else {}
    PublicStorage(**b2_server.storage_options(bucket, scope="bucket"))
    StaffStorage(**b2_server.storage_options(other, **realm))  # on one bucket: E010 and E011
    assert ids(bucket, other) == []


# -- E017: a folder-per-file storage keeps its region to itself ------------------------------------
def test_a_flat_storage_beside_a_folder_per_file_one_is_e017(
    make_storage: MakeStorage, bucket: str
) -> None:
    folders = make_storage(LoggedInStorage, location="files", layout="folder-per-file")
    flat = make_storage(LoggedInStorage, location="files")
    [message] = isolation(bucket)
    assert message.id == E017
    assert repr(folders) in message.msg and repr(flat) in message.msg


def test_layouts_apart_or_alike_pass(make_storage: MakeStorage, bucket: str) -> None:
    make_storage(LoggedInStorage, location="own", layout="folder-per-file")
    make_storage(LoggedInStorage, location="own", layout="folder-per-file", expires=60)
    make_storage(LoggedInStorage, location="flat")
    assert isolation(bucket) == []


# -- E011 at run time: a process that never ran the checks does not over-grant ----------------
def test_an_e011_scope_gets_one_files_tokens_at_run_time(
    fetch: Any,
    make_storage: MakeStorage,
    b2_server: LocalB2,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from django.core.files.base import ContentFile

    from ..b2urls import b2_get

    public = make_storage(PublicStorage, scope="bucket")
    staff = make_storage(StaffStorage, location="staff")
    staff.save("payroll.csv", ContentFile(b"salaries"))
    link = public.url(public.save("leaflet.txt", ContentFile(b"leaflet")))
    with caplog.at_level("ERROR", logger="b2_access"):
        location = fetch(link)["Location"]
        fetch(link)
    assert b2_get(location).content == b"leaflet"
    assert b2_get(location, "staff/payroll.csv").status_code == 401
    said = [r.getMessage() for r in caplog.records if "b2_access.E011" in r.getMessage()]
    assert len(said) == 1 and "'staff'" in said[0]  # once per process, naming the other
