"""collectstatic into a public B2 bucket, plain and with ManifestFilesMixin."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from b2sdk.v2 import Bucket
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.management import call_command
from django.templatetags.static import static
from django.test import override_settings

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2

from .conftest import MakeBucket

PIXEL = b"\x89PNG\r\n\x1a\n-not-really-a-png-but-bytes"
CSS = 'body { background: url("../img/dot.png"); }\n'


class ManifestB2Storage(ManifestFilesMixin, B2Storage):
    """Hashed names and a staticfiles.json manifest, in B2."""


Collect = Callable[..., None]


@pytest.fixture
def public_bucket(make_bucket: MakeBucket) -> str:
    return make_bucket("allPublic")


@pytest.fixture
def collect(tmp_path: Path, b2: LocalB2, public_bucket: str) -> Iterator[Collect]:
    """Return a function running collectstatic into the public bucket with a storage class."""
    source = tmp_path / "static_src"
    (source / "css").mkdir(parents=True)
    (source / "img").mkdir()
    (source / "css" / "site.css").write_text(CSS)
    (source / "img" / "dot.png").write_bytes(PIXEL)
    overrides: list[override_settings] = []

    def run(backend: str, **options: Any) -> None:
        storage = {
            "BACKEND": backend,
            "OPTIONS": b2.storage_options(public_bucket, **options),
        }
        override = override_settings(
            STATICFILES_DIRS=[str(source)],
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": storage,
            },
        )
        override.enable()
        overrides.append(override)
        call_command("collectstatic", interactive=False, verbosity=0)

    yield run
    for override in reversed(overrides):
        override.disable()


def public_get(url: str) -> requests.Response:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, url
    return response


def bucket_names(bucket: Bucket) -> list[str]:
    return sorted(version.file_name for version, _ in bucket.ls("", recursive=True))


def test_collectstatic_into_a_public_bucket(
    collect: Collect, b2: LocalB2, public_bucket: str, sdk: Any
) -> None:
    collect("b2_storage.B2Storage")
    bucket = sdk.get_bucket_by_name(public_bucket)
    assert bucket_names(bucket) == ["css/site.css", "img/dot.png"]
    url = static("css/site.css")
    assert url == f"{b2.realm}/file/{public_bucket}/css/site.css"
    assert public_get(url).content == CSS.encode()
    assert public_get(static("img/dot.png")).content == PIXEL
    assert public_get(url).headers["Content-Type"].startswith("text/css")


def test_collectstatic_again_skips_unmodified_files(collect: Collect, b2: LocalB2) -> None:
    collect("b2_storage.B2Storage")
    uploads = b2.calls["b2_upload_file"]
    assert uploads == 2
    collect("b2_storage.B2Storage")
    assert b2.calls["b2_upload_file"] == uploads
    assert b2.calls["b2_delete_file_version"] == 0


def test_collectstatic_with_a_manifest(
    collect: Collect, b2: LocalB2, public_bucket: str, sdk: Any
) -> None:
    collect(f"{__name__}.ManifestB2Storage", location="static")
    bucket = sdk.get_bucket_by_name(public_bucket)
    names = bucket_names(bucket)
    assert "static/staticfiles.json" in names
    manifest = json.loads(
        public_get(f"{b2.realm}/file/{public_bucket}/static/staticfiles.json").content
    )
    paths = manifest["paths"]
    css_name, png_name = paths["css/site.css"], paths["img/dot.png"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", css_name)
    assert re.fullmatch(r"img/dot\.[0-9a-f]{12}\.png", png_name)
    assert {f"static/{css_name}", f"static/{png_name}"} <= set(names)
    url = static("css/site.css")
    assert url == f"{b2.realm}/file/{public_bucket}/static/{css_name}"
    hashed_css = public_get(url).content.decode()
    assert f'url("../img/{png_name.split("/")[1]}")' in hashed_css
    assert public_get(static("img/dot.png")).content == PIXEL
