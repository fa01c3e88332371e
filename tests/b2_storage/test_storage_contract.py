"""Django's Storage contract, run against FileSystemStorage and B2Storage alike, then B2's own."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from b2sdk.v2 import B2Api, Bucket
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import override_settings

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2

from .conftest import PART, MakeBucket, MakeStorage, payload

TRAVERSALS = ["../x", "/abs", "a/../../b"]


def assert_recent(moment: datetime) -> None:
    assert moment.tzinfo is not None and moment.utcoffset() is not None
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(minutes=1)


class _Unseekable(io.RawIOBase):
    """A pipe-like stream: readable once, no size, no seek."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


class StorageContract:
    """What any Django storage must do; subclasses provide ``make`` (options -> storage)."""

    @pytest.fixture
    def storage(self, make: Any) -> Storage:
        return make()

    def test_save_open_exists_size_delete(self, storage: Storage) -> None:
        name = storage.save("docs/hello.txt", ContentFile(b"hello world"))
        assert name == "docs/hello.txt"
        assert storage.exists(name)
        assert storage.size(name) == 11
        with storage.open(name) as f:
            assert f.read() == b"hello world"
        storage.delete(name)
        assert not storage.exists(name)

    def test_listdir_nested(self, storage: Storage) -> None:
        for name in ["top.txt", "a/one.txt", "a/b/two.txt", "a/b/four.txt", "a/b/c/three.txt"]:
            storage.save(name, ContentFile(name.encode()))
        listed = {
            path: tuple(sorted(part) for part in storage.listdir(path))
            for path in ["", "a", "a/b", "a/b/c"]
        }
        assert listed == {
            "": (["a"], ["top.txt"]),
            "a": (["b"], ["one.txt"]),
            "a/b": (["c"], ["four.txt", "two.txt"]),
            "a/b/c": ([], ["three.txt"]),
        }

    @pytest.mark.parametrize("size", [0, 1, PART - 1, PART, PART + 1, 2 * PART + 1])
    def test_roundtrip_sizes(self, storage: Storage, size: int) -> None:
        data = payload(size)
        name = storage.save(f"sized/{size}.bin", ContentFile(data))
        assert storage.size(name) == size
        with storage.open(name, "rb") as f:
            assert f.read() == data

    @pytest.mark.parametrize("name", ["with space/my file.txt", "naïve/café ☕ 日本.txt"])
    def test_names_with_spaces_and_non_ascii(self, storage: Storage, name: str) -> None:
        assert storage.save(name, ContentFile(name.encode())) == name
        assert storage.exists(name)
        with storage.open(name) as f:
            assert f.read() == name.encode()
        directory, file_name = name.split("/")
        assert storage.listdir(directory) == ([], [file_name])

    def test_existing_name_gets_a_new_name(self, storage: Storage) -> None:
        first = storage.save("dup.txt", ContentFile(b"first"))
        second = storage.save("dup.txt", ContentFile(b"second"))
        assert first == "dup.txt"
        assert second != first and second.startswith("dup_") and second.endswith(".txt")
        assert storage.get_available_name("dup.txt") not in (first, second)
        with storage.open(first) as f1, storage.open(second) as f2:
            assert (f1.read(), f2.read()) == (b"first", b"second")

    def test_allow_overwrite_keeps_the_name(self, make: Any) -> None:
        storage = make(allow_overwrite=True)
        assert storage.save("same.txt", ContentFile(b"old content")) == "same.txt"
        assert storage.get_available_name("same.txt") == "same.txt"
        assert storage.save("same.txt", ContentFile(b"new")) == "same.txt"
        assert storage.size("same.txt") == 3
        with storage.open("same.txt") as f:
            assert f.read() == b"new"
        assert storage.listdir("") == ([], ["same.txt"])

    @pytest.mark.parametrize("allow_overwrite", [False, True])
    def test_available_name_fits_max_length(self, make: Any, allow_overwrite: bool) -> None:
        storage = make(allow_overwrite=allow_overwrite)
        long_name = "dir/" + "x" * 150 + ".txt"
        name = storage.get_available_name(long_name, max_length=100)
        assert len(name) <= 100 and name.startswith("dir/xxx") and name.endswith(".txt")
        saved = storage.save(long_name, ContentFile(b"long"), max_length=100)
        assert len(saved) <= 100 and storage.exists(saved)

    @pytest.mark.parametrize("text", ["plain ascii", "café ☕ 日本"])
    def test_text_content(self, storage: Storage, text: str) -> None:
        name = storage.save("text.txt", ContentFile(text))
        with storage.open(name, "rb") as f:
            assert f.read() == text.encode()
        assert storage.size(name) == len(text.encode())

    def test_generate_filename(self, storage: Storage) -> None:
        assert storage.generate_filename("dir/sub/my file?.txt") == "dir/sub/my_file.txt"

    def test_times_are_aware_and_recent(self, storage: Storage) -> None:
        name = storage.save("timed.txt", ContentFile(b"t"))
        for moment in (
            storage.get_modified_time(name),
            storage.get_created_time(name),
            storage.get_accessed_time(name),
        ):
            assert_recent(moment)

    @override_settings(USE_TZ=False)
    def test_times_are_naive_local_without_use_tz(self, storage: Storage) -> None:
        name = storage.save("naive.txt", ContentFile(b"t"))
        for moment in (storage.get_modified_time(name), storage.get_created_time(name)):
            assert moment.tzinfo is None
            assert abs(datetime.now() - moment) < timedelta(minutes=1)

    @pytest.mark.parametrize("operation", ["size", "open", "get_modified_time"])
    def test_missing_file_raises_file_not_found(self, storage: Storage, operation: str) -> None:
        with pytest.raises(FileNotFoundError):
            getattr(storage, operation)("missing/file.txt")

    def test_missing_file_is_not_there(self, storage: Storage) -> None:
        assert not storage.exists("missing/file.txt")
        storage.delete("missing/file.txt")  # no error

    @pytest.mark.parametrize("name", TRAVERSALS)
    @pytest.mark.parametrize("operation", ["save", "exists", "open", "delete", "size"])
    def test_traversal_is_refused(self, storage: Storage, name: str, operation: str) -> None:
        args: tuple[Any, ...] = (name, ContentFile(b"x")) if operation == "save" else (name,)
        with pytest.raises(SuspiciousFileOperation):
            getattr(storage, operation)(*args)

    def test_read_in_chunks_and_seek(self, storage: Storage) -> None:
        data = payload(PART + 12_345)
        name = storage.save("chunks.bin", ContentFile(data))
        with storage.open(name) as f:
            chunks = list(f.chunks(1000))
        assert b"".join(chunks) == data
        assert max(len(chunk) for chunk in chunks) == 1000
        with storage.open(name) as f:
            assert f.read(10) == data[:10]
            assert f.tell() == 10
            f.seek(PART - 3)
            assert f.read(6) == data[PART - 3 : PART + 3]
            assert f.tell() == PART + 3
            f.seek(0)
            assert f.read() == data

    def test_file_response_streams_the_bytes(self, storage: Storage) -> None:
        data = payload(3 * 4096 + 7)
        name = storage.save("streamed.bin", ContentFile(data))
        with storage.open(name) as f:  # closed here: response.close() would signal Django
            response = FileResponse(f)
            assert response["Content-Length"] == str(len(data))
            assert b"".join(response.streaming_content) == data

    def test_open_for_writing(self, storage: Storage) -> None:
        with storage.open("w.txt", "wb") as f:
            f.write(b"written ")
            f.write(b"in two")
        assert storage.exists("w.txt")
        with storage.open("w.txt") as f:
            assert f.read() == b"written in two"


class TestFileSystemStorage(StorageContract):
    @pytest.fixture
    def make(self, tmp_path: Path) -> Any:
        return lambda **options: FileSystemStorage(location=tmp_path, **options)

    def test_path_is_local(self, storage: Storage, tmp_path: Path) -> None:
        assert storage.path("a.txt") == str(tmp_path / "a.txt")


class TestB2Storage(StorageContract):
    @pytest.fixture
    def make(self, make_storage: MakeStorage) -> Any:
        return make_storage

    @pytest.mark.parametrize(("size", "large"), [(PART, False), (2 * PART + 1, True)])
    def test_large_files_go_in_parts(
        self, storage: B2Storage, b2: LocalB2, size: int, large: bool
    ) -> None:
        storage.save("parts.bin", ContentFile(payload(size)))
        assert b2.calls["b2_start_large_file"] == int(large)
        assert b2.calls["b2_upload_part"] == (2 if large else 0)
        assert b2.calls["b2_upload_file"] == (0 if large else 1)

    @pytest.mark.parametrize("size", [0, 10, 2 * PART + 1])
    def test_stream_of_unknown_size(self, storage: B2Storage, size: int) -> None:
        data = payload(size)
        stream = io.BufferedReader(_Unseekable(data))
        assert storage.save("stream.bin", File(stream, name="stream.bin")) == "stream.bin"
        assert storage.size("stream.bin") == size
        with storage.open("stream.bin") as f:
            assert f.read() == data

    def test_path_is_not_implemented(self, storage: B2Storage) -> None:
        with pytest.raises(NotImplementedError):
            storage.path("a.txt")

    @pytest.mark.parametrize(
        ("name", "problem"),
        [("/".join(["d" * 200] * 6), "1024 bytes"), ("bad\x01name.txt", "control character")],
    )
    @pytest.mark.parametrize("operation", ["save", "exists", "open", "url"])
    def test_invalid_b2_name(
        self, storage: B2Storage, name: str, problem: str, operation: str
    ) -> None:
        args: tuple[Any, ...] = (name, ContentFile(b"x")) if operation == "save" else (name,)
        with pytest.raises(ValueError, match=problem):
            getattr(storage, operation)(*args)

    def test_created_is_the_first_upload(self, make: MakeStorage, sdk_bucket: Bucket) -> None:
        storage = make(allow_overwrite=True)
        storage.save("versions.txt", ContentFile(b"one"))
        storage.save("versions.txt", ContentFile(b"two"))
        created = storage.get_created_time("versions.txt")
        modified = storage.get_modified_time("versions.txt")
        assert created <= modified
        stamps = [v.upload_timestamp for v in sdk_bucket.list_file_versions("versions.txt")]
        assert len(stamps) == 2
        assert created == datetime.fromtimestamp(min(stamps) / 1000, timezone.utc)
        assert modified == datetime.fromtimestamp(max(stamps) / 1000, timezone.utc)

    def test_location_prefixes_names(self, make: MakeStorage, sdk_bucket: Bucket) -> None:
        storage = make(location="media/uploads")
        storage.save("docs/a.txt", ContentFile(b"located"))
        [(version, _)] = list(sdk_bucket.ls("", recursive=True))
        assert version.file_name == "media/uploads/docs/a.txt"
        assert storage.listdir("") == (["docs"], [])
        assert storage.listdir("docs") == ([], ["a.txt"])
        assert make().listdir("media") == (["uploads"], [])
        assert make(location="media").listdir("uploads/docs") == ([], ["a.txt"])
        assert storage.exists("docs/a.txt") and not make().exists("docs/a.txt")

    def test_delete_removes_every_version(self, make: MakeStorage, sdk_bucket: Bucket) -> None:
        storage = make(allow_overwrite=True)
        storage.save("gone.txt", ContentFile(b"v1"))
        storage.save("gone.txt", ContentFile(b"v2"))
        assert len(list(sdk_bucket.list_file_versions("gone.txt"))) == 2
        storage.delete("gone.txt")
        assert not storage.exists("gone.txt")
        assert not make(metadata_cache=False).exists("gone.txt")
        assert list(sdk_bucket.list_file_versions("gone.txt")) == []

    def test_hidden_file_is_gone(self, make: MakeStorage, sdk_bucket: Bucket) -> None:
        storage = make(metadata_cache=False)
        storage.save("dir/hidden.txt", ContentFile(b"h"))
        sdk_bucket.hide_file("dir/hidden.txt")
        assert not storage.exists("dir/hidden.txt")
        assert storage.listdir("dir") == ([], [])
        with pytest.raises(FileNotFoundError):
            storage.open("dir/hidden.txt")
        assert storage.save("dir/hidden.txt", ContentFile(b"again")) == "dir/hidden.txt"
        storage.delete("dir/hidden.txt")
        assert list(sdk_bucket.list_file_versions("dir/hidden.txt")) == []

    def test_url_of_a_private_bucket_is_authorized(self, storage: B2Storage) -> None:
        name = storage.save("private dir/secret ☕.bin", ContentFile(b"private bytes"))
        url = storage.url(name)
        assert "?Authorization=" in url
        response = requests.get(url, timeout=10)
        assert (response.status_code, response.content) == (200, b"private bytes")
        unauthorized = requests.get(url.split("?")[0], timeout=10)
        assert unauthorized.status_code == 401

    def test_url_of_a_public_bucket_is_direct(
        self, make: MakeStorage, make_bucket: MakeBucket, b2: LocalB2
    ) -> None:
        storage = make(bucket=make_bucket("allPublic"))
        name = storage.save("public dir/open ☕.txt", ContentFile(b"public bytes"))
        url = storage.url(name)
        assert url.startswith(f"{b2.realm}/file/") and "Authorization" not in url
        response = requests.get(url, timeout=10)
        assert (response.status_code, response.content) == (200, b"public bytes")

    def test_cdn_url(self, make: MakeStorage) -> None:
        storage = make(cdn_url="https://cdn.example.com/assets/", location="media")
        assert storage.url("a b/c.txt") == "https://cdn.example.com/assets/media/a%20b/c.txt"

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (SimpleUploadedFile("upload.png", b"\x89PNG", content_type="text/html"), "image/png"),
            (
                SimpleUploadedFile("upload.bin", b"\x89PNG", content_type="image/png"),
                "application/octet-stream",
            ),  # the browser's claim is not trusted
            (ContentFile(b"%PDF-1.4", name="x.pdf"), "application/pdf"),
            (ContentFile(b"?", name="x.unknownext"), "application/octet-stream"),
        ],
    )
    def test_content_type(
        self, storage: B2Storage, sdk_bucket: Bucket, content: Any, expected: str
    ) -> None:
        name = storage.save(content.name, content)
        assert sdk_bucket.get_file_info_by_name(name).content_type == expected
        response = requests.head(storage.url(name), timeout=10)
        assert response.headers["Content-Type"] == expected

    @pytest.mark.parametrize(
        ("options", "name", "served", "disposition"),
        [
            ({}, "a.html", "text/html", "attachment"),
            ({}, "a.js", "text/javascript", "attachment"),
            ({}, "feed.atom", "application/atom+xml", "attachment"),
            ({"active_content": "inline"}, "a.html", "text/html", None),
            ({"content_types": {".md": "text/markdown"}}, "READ.ME.md", "text/markdown", None),
            ({"content_types": {".txt": "text/html"}}, "x.txt", "text/html", "attachment"),
            (
                {"file_info": {"b2-content-disposition": "inline"}},
                "a.svg",
                "image/svg+xml",
                "inline",
            ),  # an explicit file_info wins
        ],
    )
    def test_active_content_is_stored_as_an_attachment(
        self,
        make: MakeStorage,
        options: dict[str, Any],
        name: str,
        served: str,
        disposition: str | None,
    ) -> None:
        storage = make(**options)
        saved = storage.save(name, ContentFile(b"<svg onload=alert(1)>"))
        response = requests.get(storage.url(saved), timeout=10)
        assert response.headers["Content-Type"] == served
        assert response.headers.get("Content-Disposition") == disposition

    @pytest.mark.parametrize(
        "options",
        [
            {"active_content": "download"},
            {"layout": "nested"},
            {"content_types": {"md": "x/y"}},
            {"content_types": {".md": "markdown"}},
        ],
    )
    def test_content_options_are_validated(self, make: MakeStorage, options: Any) -> None:
        with pytest.raises(ImproperlyConfigured, match=next(iter(options))):
            make(**options)

    def test_file_info_option(self, make: MakeStorage, sdk: B2Api, sdk_bucket: Bucket) -> None:
        storage = make(file_info={"owner": "tests", "b2-cache-control": "max-age=60"})
        storage.save("info.txt", ContentFile(b"i"))
        version = sdk_bucket.get_file_info_by_name("info.txt")
        assert version.file_info.get("owner") == "tests"
        assert version.cache_control == "max-age=60"  # B2 serves it as Cache-Control
        stored = sdk.get_file_info(version.id_).file_info
        assert {k: stored.get(k) for k in ("owner", "b2-cache-control")} == {
            "owner": "tests",
            "b2-cache-control": "max-age=60",
        }
        response = requests.get(storage.url("info.txt"), timeout=10)
        assert response.headers["Cache-Control"] == "max-age=60"
