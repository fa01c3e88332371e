"""``manage.py b2doctor`` against the local B2 server: each problem is named, and nothing else."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import models
from django.test.utils import isolate_apps

from b2_access import LoggedInStorage, PublicStorage
from b2_storage import B2Storage
from b2_storage.doctor import Target, diagnose, find_targets
from b2_storage.doctor.probe import Prober, utc_now
from b2_storage.emulator import LocalB2

NEEDED = ["listBuckets", "listFiles", "readFiles", "writeFiles", "deleteFiles", "shareFiles"]
STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def new_bucket(server: LocalB2, bucket_type: str = "allPrivate") -> str:
    name = f"doc-{uuid.uuid4().hex[:20]}"
    server.create_bucket(name, bucket_type)
    return name


@pytest.fixture
def configure(settings: Any, b2_server: LocalB2) -> Any:
    """Return ``configure(default=(backend, options), **more)``: B2 storages in STORAGES, on
    the local server's master key unless their options say otherwise."""
    settings.B2_STORAGE = {
        "realm": b2_server.realm,
        "application_key_id": b2_server.application_key_id,
        "application_key": b2_server.application_key,
    }

    def set_storages(**aliases: tuple[str, dict[str, Any]]) -> None:
        entries = {alias: {"BACKEND": b, "OPTIONS": o} for alias, (b, o) in aliases.items()}
        settings.STORAGES = {**entries, "staticfiles": STATIC}

    return set_storages


def keyed(bucket: str, key_id: str, key: str, **options: Any) -> dict[str, Any]:
    """Return the options of a storage on ``bucket`` with its own key."""
    return {"bucket": bucket, "application_key_id": key_id, "application_key": key, **options}


def doctor(*args: str) -> tuple[str, CommandError | None]:
    """Run ``b2doctor`` with ``args``; return its output and the error it exited with."""
    out = StringIO()
    try:
        call_command("b2doctor", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def findings(*args: str) -> tuple[dict[tuple[str, str], dict[str, str]], CommandError | None]:
    """Run ``b2doctor --json``; return its findings by (storage, check), and its error."""
    out, error = doctor("--json", *args)
    return {(f["storage"], f["check"]): f for f in json.loads(out)}, error


def test_a_healthy_configuration_exits_0(configure: Any, b2_server: LocalB2) -> None:
    configure(default=("b2_storage.B2Storage", {"bucket": new_bucket(b2_server)}))
    out, error = doctor()
    assert error is None, out
    assert out.splitlines()[0].split() == ["STORAGE", "CHECK", "STATUS", "DETAIL"]
    for check in ("credentials", "clock", "key bucket", "key prefix", "bucket", "capabilities"):
        assert re.search(rf"^default +{check} +OK +\S", out, re.MULTILINE), check
    assert "1 storage, 7 checks: 7 OK." in out
    assert b2_server.application_key not in out


def test_json_is_a_list_of_findings(configure: Any, b2_server: LocalB2) -> None:
    configure(default=("b2_access.LoggedInStorage", {"bucket": new_bucket(b2_server)}))
    out, error = doctor("--json")
    listed = json.loads(out)
    assert error is None and isinstance(listed, list)
    assert all(set(f) == {"storage", "check", "status", "detail"} for f in listed)
    assert [f["check"] for f in listed] == [
        "credentials",
        "clock",
        "key bucket",
        "key prefix",
        "bucket",
        "capabilities",
        "cache 'b2'",
        "cache 'default'",
    ]
    assert {f["status"] for f in listed} == {"OK"}


@pytest.mark.parametrize("missing", NEEDED)
def test_each_missing_capability_is_named(configure: Any, b2_server: LocalB2, missing: str) -> None:
    bucket = new_bucket(b2_server)
    key_id, key = b2_server.create_key([c for c in NEEDED if c != missing], bucket=bucket)
    configure(default=("b2_storage.B2Storage", keyed(bucket, key_id, key)))
    found, error = findings()
    capabilities = found["default", "capabilities"]
    assert capabilities["status"] == "ERROR"
    assert f"the key lacks {missing} (" in capabilities["detail"]
    assert error is not None and "default: capabilities" in str(error)
    assert key not in json.dumps(list(found.values()))


def test_share_files_is_needed_for_links_to_private_files_only(
    configure: Any, b2_server: LocalB2
) -> None:
    public = new_bucket(b2_server, "allPublic")
    key_id, key = b2_server.create_key([c for c in NEEDED if c != "shareFiles"])
    configure(
        direct=("b2_storage.B2Storage", keyed(public, key_id, key)),
        signed=("b2_access.PublicStorage", keyed(public, key_id, key, location="avatars")),
    )
    found, _error = findings()
    assert found["direct", "capabilities"]["status"] == "OK"  # url() is the file's public URL
    assert "lacks shareFiles" in found["signed", "capabilities"]["detail"]  # the middleware's


def test_a_key_for_another_bucket(configure: Any, b2_server: LocalB2) -> None:
    bucket, other = new_bucket(b2_server), new_bucket(b2_server)
    key_id, key = b2_server.create_key(NEEDED, bucket=other)
    configure(default=("b2_storage.B2Storage", keyed(bucket, key_id, key)))
    found, error = findings()
    assert found["default", "key bucket"]["status"] == "ERROR"
    assert f"restricted to {other!r}, not {bucket!r}" in found["default", "key bucket"]["detail"]
    assert found["default", "bucket"]["status"] == "SKIP"
    assert error is not None


@pytest.mark.parametrize(
    ("prefix", "location", "status"),
    [
        ("docs/", "docs", "OK"),
        ("docs", "docs", "OK"),
        ("docs/", "docs/2024", "OK"),
        ("docs/", "", "ERROR"),
        ("docs/", "scans", "ERROR"),
        ("docs/a", "docs", "ERROR"),
    ],
)
def test_a_name_prefix_must_cover_the_location(
    configure: Any, b2_server: LocalB2, prefix: str, location: str, status: str
) -> None:
    bucket = new_bucket(b2_server)
    key_id, key = b2_server.create_key(NEEDED, bucket=bucket, name_prefix=prefix)
    configure(default=("b2_storage.B2Storage", keyed(bucket, key_id, key, location=location)))
    found, _error = findings()
    assert found["default", "key prefix"]["status"] == status
    if status == "ERROR":
        assert f"names starting with {prefix!r}" in found["default", "key prefix"]["detail"]


def test_links_meant_to_be_private_on_an_all_public_bucket(
    configure: Any, b2_server: LocalB2
) -> None:
    public = new_bucket(b2_server, "allPublic")
    configure(
        staff=("b2_access.LoggedInStorage", {"bucket": public, "location": "staff"}),
        avatars=("b2_access.PublicStorage", {"bucket": public, "location": "avatars"}),
        media=("b2_storage.B2Storage", {"bucket": public, "location": "media"}),
    )
    found, error = findings()
    assert found["staff", "bucket"]["status"] == "ERROR"
    assert "anyone could fetch its files directly" in found["staff", "bucket"]["detail"]
    assert found["avatars", "bucket"]["status"] == found["media", "bucket"]["status"] == "OK"
    assert error is not None and "staff: bucket" in str(error) and "avatars" not in str(error)


def test_a_missing_bucket(configure: Any, b2_server: LocalB2) -> None:
    configure(
        gone=("b2_storage.B2Storage", {"bucket": "doc-no-such-bucket"}),
        later=("b2_storage.B2Storage", {"bucket": "doc-made-later", "create_bucket": True}),
    )
    found, error = findings()
    assert found["gone", "bucket"]["status"] == "ERROR"
    assert "'doc-no-such-bucket' does not exist" in found["gone", "bucket"]["detail"]
    assert found["later", "bucket"]["status"] == "WARN"  # created on first use...
    assert "writeBuckets" in found["later", "capabilities"]["detail"]  # ...which this key may do
    assert error is not None and "later" not in str(error)


def test_a_cache_that_raises_or_is_missing(
    configure: Any, settings: Any, b2_server: LocalB2
) -> None:
    settings.CACHES = {**settings.CACHES, "down": {"BACKEND": "tests.broken_cache.DownCache"}}
    bucket = new_bucket(b2_server)
    configure(
        down=(
            "b2_storage.B2Storage",
            {"bucket": bucket, "account_info": {"backend": "django-cache", "cache": "down"}},
        ),
        nowhere=(
            "b2_storage.B2Storage",
            {
                "bucket": bucket,
                "location": "x",
                "account_info": {"backend": "django-cache", "cache": "nowhere"},
            },
        ),
    )
    found, error = findings()
    assert found["down", "cache 'down'"]["status"] == "ERROR"
    assert "ConnectionError" in found["down", "cache 'down'"]["detail"]
    assert "'nowhere' is not in CACHES" in found["nowhere", "cache 'nowhere'"]["detail"]
    assert error is not None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_realm_is_said_in_bounded_time(configure: Any, settings: Any) -> None:
    realm = f"http://127.0.0.1:{closed_port()}"
    settings.B2_STORAGE = {**settings.B2_STORAGE, "realm": realm}
    configure(
        one=("b2_storage.B2Storage", {"bucket": "doc-one"}),
        two=("b2_access.LoggedInStorage", {"bucket": "doc-two"}),
    )
    started = time.monotonic()
    found, error = findings("--write")
    assert time.monotonic() - started < 20  # b2sdk's retries would take 8 s per storage
    assert f"could not authorize with B2 at {realm}" in found["one", "credentials"]["detail"]
    assert found["two", "round trip"]["status"] == "SKIP"
    assert error is not None and "one: credentials; two: credentials" in str(error)


def test_a_wrong_key_says_where_it_is_set(
    configure: Any, settings: Any, b2_server: LocalB2
) -> None:
    settings.B2_STORAGE = {**settings.B2_STORAGE, "application_key": "K-not-the-key"}
    configure(default=("b2_storage.B2Storage", {"bucket": new_bucket(b2_server)}))
    out, error = doctor()
    assert "B2 refused the key" in out and "B2_STORAGE['application_key']" in out
    assert "K-not-the-key" not in out and error is not None


def test_write_round_trip_of_a_private_bucket(configure: Any, b2_server: LocalB2) -> None:
    bucket = new_bucket(b2_server)
    configure(default=("b2_storage.B2Storage", {"bucket": bucket, "location": "media"}))
    found, error = findings("--write")
    assert error is None
    assert "through its B2 download-authorization URL" in found["default", "round trip"]["detail"]
    assert found["default", "clean up"]["status"] == "OK"
    assert B2Storage(**b2_server.storage_options(bucket)).listdir("") == ([], [])


@pytest.mark.django_db
def test_write_follows_a_signed_link_as_the_given_user(
    configure: Any, b2_server: LocalB2, django_user_model: Any
) -> None:
    django_user_model.objects.create_user("alice", password="pw")
    configure(default=("b2_access.LoggedInStorage", {"bucket": new_bucket(b2_server)}))
    anonymous, error = findings("--write")
    assert error is None and anonymous["default", "round trip"]["status"] == "SKIP"
    assert "run with --user USERNAME" in anonymous["default", "round trip"]["detail"]
    found, error = findings("--write", "--user", "alice")
    assert error is None
    assert "through its signed link (302 to B2)" in found["default", "round trip"]["detail"]
    assert found["default", "clean up"]["status"] == "OK"


def test_write_cleans_up_when_a_step_fails(configure: Any, b2_server: LocalB2) -> None:
    bucket = new_bucket(b2_server)
    key_id, key = b2_server.create_key([c for c in NEEDED if c != "shareFiles"], bucket=bucket)
    configure(default=("b2_storage.B2Storage", keyed(bucket, key_id, key)))
    found, error = findings("--write")
    assert found["default", "round trip"]["status"] == "ERROR"  # url() needs shareFiles
    assert found["default", "clean up"]["status"] == "OK"
    assert B2Storage(**b2_server.storage_options(bucket)).listdir("") == ([], [])


def test_storage_limits_the_run(configure: Any, b2_server: LocalB2) -> None:
    bucket = new_bucket(b2_server)
    configure(
        one=("b2_storage.B2Storage", {"bucket": bucket, "location": "one"}),
        two=("b2_storage.B2Storage", {"bucket": "doc-no-such-bucket"}),
    )
    found, error = findings("--storage", "one")
    assert error is None and {storage for storage, _check in found} == {"one"}
    _out, unknown = doctor("--storage", "three")
    assert unknown is not None and "'three'" in str(unknown) and "one, two" in str(unknown)


def test_model_fields_are_found_once_and_labelled(configure: Any, b2_server: LocalB2) -> None:
    bucket = new_bucket(b2_server)
    configure(default=("b2_storage.B2Storage", {"bucket": bucket}))
    shared = LoggedInStorage(**b2_server.storage_options(bucket, location="scans"))
    with isolate_apps("tests.testapp"):

        class Scan(models.Model):
            front = models.FileField(storage=shared)
            back = models.FileField(storage=shared)
            cover = models.FileField(storage=PublicStorage(**b2_server.storage_options(bucket)))
            other = models.FileField(storage=default_storage)

            class Meta:
                app_label = "testapp"

        targets = find_targets(models=[Scan])
    assert [t.label for t in targets] == ["default", "testapp.Scan.front", "testapp.Scan.cover"]
    assert targets[1].storage is shared


@pytest.mark.parametrize(("ahead", "status"), [(0, "OK"), (120, "WARN"), (-700, "ERROR")])
def test_clock_skew(b2_server: LocalB2, ahead: int, status: str) -> None:
    storage = B2Storage(**b2_server.storage_options(new_bucket(b2_server)))
    prober = Prober(now=lambda: utc_now() + timedelta(seconds=ahead))
    clock = next(f for f in diagnose([Target("x", storage)], prober=prober) if f.check == "clock")
    assert clock.status == status
    if ahead:  # B2's Date has whole seconds: the skew is known to about one second
        assert f"s {'ahead of' if ahead > 0 else 'behind'} B2's" in clock.detail
