"""Model FileField and ImageField on a B2 default storage (tests.testapp must be installed)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings
from django.utils import timezone

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2
from tests.testapp.models import Document

from .conftest import PART, payload

pytestmark = pytest.mark.django_db

UseB2 = Callable[..., B2Storage]


def png_1x1() -> bytes:
    """Return a valid 1x1 white 8-bit greyscale PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = png_1x1()


@pytest.fixture
def use_b2(b2: LocalB2, bucket: str) -> Iterator[UseB2]:
    """Point STORAGES["default"] at the bucket, with options, until the test ends."""
    overrides: list[override_settings] = []

    def use(**options: object) -> B2Storage:
        setting = {
            "default": {
                "BACKEND": "b2_storage.B2Storage",
                "OPTIONS": b2.storage_options(bucket, part_size=PART, **options),
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        override = override_settings(STORAGES=setting)
        override.enable()
        overrides.append(override)
        storage = storages["default"]
        assert isinstance(storage, B2Storage)
        return storage

    yield use
    for override in reversed(overrides):
        override.disable()


def test_the_field_follows_overridden_storages(use_b2: UseB2, bucket: str) -> None:
    storage = use_b2()
    field = Document._meta.get_field("attachment")
    assert field.storage == storage and default_storage.config.bucket == bucket  # type: ignore[attr-defined]


def test_save_and_read_back(use_b2: UseB2) -> None:
    storage = use_b2()
    doc = Document(title="first")
    doc.attachment.save("report.txt", ContentFile(b"the report"), save=False)
    doc.picture.save("pixel.png", ContentFile(PNG))
    assert doc.pk is not None
    doc = Document.objects.get(pk=doc.pk)
    assert doc.attachment.name == "docs/report.txt"
    assert doc.picture.name == f"images/{timezone.now().year}/pixel.png"
    assert doc.attachment.size == len(b"the report")
    with doc.attachment.open("rb") as f:
        assert f.read() == b"the report"
    assert doc.picture.read() == PNG
    doc.picture.close()
    response = requests.get(doc.picture.url, timeout=10)
    assert (response.status_code, response.content) == (200, PNG)
    assert response.headers["Content-Type"] == "image/png"
    assert (doc.picture.width, doc.picture.height) == (1, 1)  # Pillow reads it from B2
    assert storage.listdir("docs") == ([], ["report.txt"])
    assert storage.listdir("") == (["docs", "images"], [])


@pytest.mark.parametrize(
    ("name", "claimed", "served", "disposition"),
    [
        ("table.csv", "text/html", "text/csv", None),
        ("x.pdf", "text/html", "application/pdf", None),
        ("page.html", "text/plain", "text/html", "attachment"),
        ("logo.svg", "image/png", "image/svg+xml", "attachment"),
        ("data.bin", "text/html", "application/octet-stream", None),
    ],
)
def test_an_uploads_content_type_comes_from_its_name_not_the_browser(
    use_b2: UseB2, name: str, claimed: str, served: str, disposition: str | None
) -> None:
    use_b2()
    upload = SimpleUploadedFile(name, b"<script>alert(1)</script>", content_type=claimed)
    doc = Document.objects.create(title="upload", attachment=upload)
    assert doc.attachment.name == f"docs/{name}"
    response = requests.get(doc.attachment.url, timeout=10)
    assert response.content == b"<script>alert(1)</script>"
    assert response.headers["Content-Type"] == served
    assert response.headers.get("Content-Disposition") == disposition


@pytest.mark.parametrize(("size", "large"), [(10, False), (2 * PART + 1, True)])
def test_temporary_upload(use_b2: UseB2, b2: LocalB2, size: int, large: bool) -> None:
    use_b2()
    data = payload(size)
    with TemporaryUploadedFile("big.bin", "application/octet-stream", len(data), None) as upload:
        upload.write(data)
        upload.seek(0)
        doc = Document.objects.create(title="big", attachment=upload)
    assert b2.calls["b2_finish_large_file"] == b2.calls["b2_start_large_file"] == int(large)
    doc.refresh_from_db()
    with doc.attachment.open("rb") as f:
        assert f.read() == data


def test_same_name_gets_a_new_name(use_b2: UseB2) -> None:
    storage = use_b2()
    first = Document.objects.create(attachment=ContentFile(b"one", name="same.txt"))
    second = Document.objects.create(attachment=ContentFile(b"two", name="same.txt"))
    assert first.attachment.name == "docs/same.txt"
    assert second.attachment.name != first.attachment.name
    assert second.attachment.name.startswith("docs/same_")
    assert sorted(storage.listdir("docs")[1]) == sorted(
        name.split("/")[1] for name in (first.attachment.name, second.attachment.name)
    )
    assert [d.attachment.read() for d in Document.objects.order_by("pk")] == [b"one", b"two"]


def test_allow_overwrite_replaces_the_file(use_b2: UseB2) -> None:
    use_b2(allow_overwrite=True)
    first = Document.objects.create(attachment=ContentFile(b"old", name="same.txt"))
    second = Document.objects.create(attachment=ContentFile(b"newer", name="same.txt"))
    assert first.attachment.name == second.attachment.name == "docs/same.txt"
    first.refresh_from_db()
    assert first.attachment.size == 5
    with first.attachment.open("rb") as f:
        assert f.read() == b"newer"


def test_field_delete(use_b2: UseB2) -> None:
    storage = use_b2()
    doc = Document.objects.create(
        attachment=ContentFile(b"gone", name="gone.txt"),
        picture=ContentFile(PNG, name="gone.png"),
    )
    picture_name = doc.picture.name
    doc.attachment.delete()
    doc.picture.delete(save=False)
    assert not storage.exists("docs/gone.txt")
    assert not storage.exists(picture_name)
    doc.refresh_from_db()
    assert not doc.attachment
    assert doc.picture.name == picture_name  # save=False left the row alone
    assert storage.listdir("docs") == ([], [])
