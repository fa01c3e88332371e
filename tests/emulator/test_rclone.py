"""rclone's b2 backend (B2 native API v1) against the local B2 server.

rclone runs as a subprocess with its own config file and home (see :mod:`.thirdparty`). Every
test checks the outcome through rclone itself (listings, ``cat`` bytes, mod times, SHA1s) and
the server's call counts (which API a command really used), not only exit codes.

In CI (``CI`` set) a missing rclone fails these tests; elsewhere they are skipped.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from b2_storage.emulator import LocalB2

from .thirdparty import (
    MTIME_MS,
    RCLONE_MIN_CHUNK,
    REMOTE,
    Rclone,
    data,
    local_b2,
    rclone,
    server,
    show,
    write,
)

CHUNK = f"{RCLONE_MIN_CHUNK // 1024 // 1024}Mi"  # rclone's smallest --b2-chunk-size
LARGE = ("--b2-upload-cutoff", CHUNK, "--b2-chunk-size", CHUNK)
BIG_SIZE = 2 * RCLONE_MIN_CHUNK + 700_000  # three parts: 5 MiB, 5 MiB and the rest
BIG = "big.bin"
VERSION = re.compile(r"-v\d{4}-\d\d-\d\d-\d{6}-\d{3}")  # rclone's --b2-versions name suffix


def b2_time(ms: int) -> str:
    """Return how rclone's lsjson shows a B2 mod time (UTC, to the millisecond)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


MTIME = b2_time(MTIME_MS)


@pytest.fixture
def bucket(server: LocalB2) -> str:
    name = f"rclone-{uuid.uuid4().hex[:12]}"
    server.create_bucket(name)
    return name


@dataclass(frozen=True)
class Uploaded:
    """A local tree copied to ``<bucket>/up`` by ``rclone copy``, and what the server saw."""

    bucket: str
    src: Path
    files: dict[str, bytes]
    calls: Mapping[str, int]

    def remote(self, path: str = "") -> str:
        return f"{REMOTE}:{self.bucket}/up" + (f"/{path}" if path else "")


@pytest.fixture(scope="module")
def uploaded(rclone: Rclone, server: LocalB2, tmp_path_factory: pytest.TempPathFactory) -> Uploaded:
    """Copy a small tree with one file above the lowered upload cutoff (read-only for tests)."""
    name = f"rclone-up-{uuid.uuid4().hex[:8]}"
    server.create_bucket(name)
    src = tmp_path_factory.mktemp("rclone-src")
    files = {
        "top.txt": b"top\n",
        "empty.bin": b"",
        "dir/name with spaces & +plus%.txt": b"spaces and signs",
        "dir/sub/ünïcødé.txt": "ünïcødé\n".encode(),
        BIG: data(BIG_SIZE, seed=1),
    }
    for rel, content in files.items():
        write(src / rel, content)
    server.reset_calls()
    rclone.run("copy", *LARGE, str(src), f"{REMOTE}:{name}/up")
    return Uploaded(name, src, files, Counter(server.calls))


def test_lsd_mkdir_rmdir(rclone: Rclone, server: LocalB2, bucket: str) -> None:
    made = f"rclone-mk-{uuid.uuid4().hex[:8]}"
    rclone.run("mkdir", f"{REMOTE}:{made}")  # b2_create_bucket
    rclone.run("mkdir", f"{REMOTE}:{bucket}")  # exists: duplicate_bucket_name, then found

    def buckets() -> set[str]:
        return {line.split()[-1] for line in rclone.text("lsd", f"{REMOTE}:").splitlines()}

    assert {bucket, made} <= buckets()
    server.reset_calls()
    rclone.run("rmdir", f"{REMOTE}:{made}")
    assert server.calls["b2_delete_bucket"] == 1
    assert made not in buckets()
    assert bucket in buckets()


def test_copy_sends_the_big_file_through_the_large_file_api(uploaded: Uploaded) -> None:
    calls = uploaded.calls
    assert calls["b2_authorize_account"] == 1
    assert calls["b2_start_large_file"] == 1
    assert calls["b2_upload_part"] == 3
    assert calls["b2_finish_large_file"] == 1
    assert calls["b2_upload_file"] == len(uploaded.files) - 1


def test_parts_below_the_servers_minimum_are_refused(
    rclone: Rclone, tmp_path: Path, uploaded: Uploaded
) -> None:
    # rclone can't go below 5 MiB parts and ignores absoluteMinimumPartSize: a server asking
    # for more must refuse b2_finish_large_file, and rclone then cancels the large file.
    with local_b2(min_part_size=RCLONE_MIN_CHUNK + 1) as strict:
        strict.create_bucket("strict-parts")
        client, dest = Rclone(rclone.exe, strict, tmp_path), f"{REMOTE}:strict-parts"
        failed = client.run("copy", *LARGE, str(uploaded.src / BIG), dest, ok=False)
        assert failed.returncode != 0
        assert "(400 bad_request)" in failed.stderr.decode(), show(failed)
        assert strict.calls["b2_upload_part"] == 3
        assert strict.calls["b2_finish_large_file"] == strict.calls["b2_cancel_large_file"] == 1
        assert client.lsf(dest, "--b2-versions") == []


def test_ls_lsl_lsjson_lsf(rclone: Rclone, uploaded: Uploaded) -> None:
    sizes = {rel: len(content) for rel, content in uploaded.files.items()}
    ls = [line.split(maxsplit=1) for line in rclone.text("ls", uploaded.remote()).splitlines()]
    assert {path: int(size) for size, path in ls} == sizes
    # lsl: size, the source's mod time (X-Bz-Info-src_last_modified_millis round-trips), path.
    lsl = [line.split(maxsplit=3) for line in rclone.text("lsl", uploaded.remote()).splitlines()]
    assert {path: (int(size), f"{day} {time}") for size, day, time, path in lsl} == {
        rel: (size, "2020-09-13 12:26:40.123000000") for rel, size in sizes.items()
    }
    listed = rclone.lsjson(uploaded.remote(), "-R", "--hash")
    files = {path: item for path, item in listed.items() if not item["IsDir"]}
    assert {path for path, item in listed.items() if item["IsDir"]} == {"dir", "dir/sub"}
    assert set(files) == set(uploaded.files)
    for rel, content in uploaded.files.items():
        item = files[rel]
        assert item["Size"] == len(content), rel
        assert item["ModTime"] == MTIME, rel
        # The big file's SHA1 comes from large_file_sha1 (B2 keeps none for a large file).
        assert item["Hashes"]["sha1"] == hashlib.sha1(content).hexdigest(), rel
    # One level only: B2's delimiter listing gives the folders.
    assert rclone.lsf(uploaded.remote()) == ["big.bin", "dir/", "empty.bin", "top.txt"]
    assert rclone.lsf(uploaded.remote("dir")) == ["name with spaces & +plus%.txt", "sub/"]


@pytest.mark.parametrize("download", [False, True], ids=["sha1", "download"])
def test_check(rclone: Rclone, uploaded: Uploaded, tmp_path: Path, download: bool) -> None:
    options = ["--combined", "-", *(["--download"] if download else [])]
    same = rclone.run("check", *options, str(uploaded.src), uploaded.remote())
    assert sorted(same.stdout.decode().splitlines()) == sorted(f"= {rel}" for rel in uploaded.files)
    # The same tree with one byte changed (same size, same mod time): check must notice.
    changed = tmp_path / "changed"
    shutil.copytree(uploaded.src, changed)
    big = uploaded.files[BIG]
    write(changed / BIG, big[:-1] + bytes([big[-1] ^ 1]))
    differs = rclone.run("check", *options, str(changed), uploaded.remote(), ok=False)
    assert differs.returncode == 1, show(differs)
    assert "1 differences found" in differs.stderr.decode()
    assert sorted(differs.stdout.decode().splitlines()) == sorted(
        f"* {rel}" if rel == BIG else f"= {rel}" for rel in uploaded.files
    )


def test_cat(rclone: Rclone, uploaded: Uploaded) -> None:
    for rel, content in uploaded.files.items():
        assert rclone.run("cat", uploaded.remote(rel)).stdout == content, rel
    # A range across the first part boundary of the large file: a 206 from two parts.
    start = RCLONE_MIN_CHUNK - 1000
    ranged = rclone.run("cat", "--offset", str(start), "--count", "3000", uploaded.remote(BIG))
    assert ranged.stdout == uploaded.files[BIG][start : start + 3000]


def test_copyto_is_a_server_side_copy(rclone: Rclone, server: LocalB2, uploaded: Uploaded) -> None:
    dest = f"{REMOTE}:{uploaded.bucket}/copies-{uuid.uuid4().hex[:8]}"
    server.reset_calls()
    rclone.run("copyto", uploaded.remote("dir/sub/ünïcødé.txt"), f"{dest}/small copy.txt")
    assert server.calls["b2_copy_file"] == 1
    # Above --b2-copy-cutoff rclone copies in parts: b2_start_large_file + b2_copy_part each.
    rclone.run("copyto", "--b2-copy-cutoff", CHUNK, uploaded.remote(BIG), f"{dest}/big.bin")
    assert server.calls["b2_start_large_file"] == 1
    assert server.calls["b2_copy_part"] == 3
    assert server.calls["b2_finish_large_file"] == 1
    assert server.calls["b2_upload_file"] == server.calls["b2_upload_part"] == 0
    assert rclone.run("cat", f"{dest}/small copy.txt").stdout == "ünïcødé\n".encode()
    assert rclone.run("cat", f"{dest}/big.bin").stdout == uploaded.files[BIG]
    copies = rclone.lsjson(dest, "--hash")
    assert set(copies) == {"small copy.txt", "big.bin"}
    for name, source in (("small copy.txt", "dir/sub/ünïcødé.txt"), ("big.bin", "big.bin")):
        assert copies[name]["ModTime"] == MTIME  # file info copied with the bytes
        assert copies[name]["Hashes"]["sha1"] == hashlib.sha1(uploaded.files[source]).hexdigest()


def _put(rclone: Rclone, tmp_path: Path, remote: str, content: bytes, mtime_ms: int) -> None:
    local = write(tmp_path / uuid.uuid4().hex, content, mtime_ms)
    rclone.run("copyto", str(local), remote)


def test_moveto(rclone: Rclone, server: LocalB2, bucket: str, tmp_path: Path) -> None:
    base = f"{REMOTE}:{bucket}/m"
    _put(rclone, tmp_path, f"{base}/a.txt", b"moving bytes", 1_600_000_000_123)
    server.reset_calls()
    rclone.run("moveto", f"{base}/a.txt", f"{base}/b.txt")  # copy, then hide the source
    assert (server.calls["b2_copy_file"], server.calls["b2_hide_file"]) == (1, 1)
    assert server.calls["b2_upload_file"] == 0
    assert rclone.lsf(base) == ["b.txt"]
    assert rclone.run("cat", f"{base}/b.txt").stdout == b"moving bytes"
    assert rclone.lsjson(base)["b.txt"]["ModTime"] == MTIME
    old, new = rclone.lsf(base, "--b2-versions")
    assert (VERSION.sub("", old), new) == ("a.txt", "b.txt")  # the hidden source version
    server.reset_calls()
    rclone.run("moveto", "--b2-hard-delete", f"{base}/b.txt", f"{base}/c.txt")
    assert (server.calls["b2_copy_file"], server.calls["b2_delete_file_version"]) == (1, 1)
    assert server.calls["b2_hide_file"] == 0
    assert [VERSION.sub("", n) for n in rclone.lsf(base, "--b2-versions")] == ["a.txt", "c.txt"]


def test_touch(rclone: Rclone, server: LocalB2, bucket: str, tmp_path: Path) -> None:
    base = f"{REMOTE}:{bucket}/t"
    # A new file: an empty upload with X-Bz-Content-Sha1 hex_digits_at_end (rclone has no SHA1).
    server.reset_calls()
    rclone.run("touch", "-t", "2022-03-04T05:06:07", f"{base}/new.txt")
    assert server.calls["b2_upload_file"] == 1
    new = rclone.lsjson(base, "--hash")["new.txt"]
    assert (new["Size"], new["ModTime"]) == (0, "2022-03-04T05:06:07.000Z")
    assert new["Hashes"]["sha1"] == hashlib.sha1(b"").hexdigest()
    assert rclone.run("cat", f"{base}/new.txt").stdout == b""
    # An existing file: a copy onto itself with the new mod time (metadataDirective REPLACE).
    _put(rclone, tmp_path, f"{base}/old.txt", b"old bytes", 1_600_000_000_123)
    server.reset_calls()
    rclone.run("touch", "-t", "2021-02-03T04:05:06", f"{base}/old.txt")
    assert server.calls["b2_copy_file"] == 1
    assert server.calls["b2_upload_file"] == 0
    assert rclone.lsjson(base)["old.txt"]["ModTime"] == "2021-02-03T04:05:06.000Z"
    assert rclone.run("cat", f"{base}/old.txt").stdout == b"old bytes"
    assert [VERSION.sub("", n) for n in rclone.lsf(base, "--b2-versions")] == [
        "new.txt",
        "old.txt",
        "old.txt",
    ]


def test_versions_after_an_overwrite(
    rclone: Rclone, server: LocalB2, bucket: str, tmp_path: Path
) -> None:
    base = f"{REMOTE}:{bucket}/v"
    _put(rclone, tmp_path, f"{base}/a.txt", b"one", 1_600_000_000_000)
    _put(rclone, tmp_path, f"{base}/a.txt", b"second", 1_600_000_100_000)
    assert rclone.lsf(base) == ["a.txt"]
    versions = rclone.lsjson(base, "--b2-versions")
    assert len(versions) == 2
    old = next(name for name in versions if name != "a.txt")
    assert VERSION.sub("", old) == "a.txt"
    assert (versions["a.txt"]["Size"], versions[old]["Size"]) == (6, 3)
    assert versions[old]["ModTime"] == b2_time(1_600_000_000_000)
    assert rclone.run("cat", f"{base}/a.txt").stdout == b"second"
    assert rclone.run("cat", "--b2-versions", f"{base}/{old}").stdout == b"one"
    # cleanup deletes every version but the newest.
    server.reset_calls()
    rclone.run("cleanup", f"{REMOTE}:{bucket}")
    assert server.calls["b2_delete_file_version"] == 1
    assert rclone.lsf(base, "--b2-versions") == ["a.txt"]
    assert rclone.run("cat", f"{base}/a.txt").stdout == b"second"


def test_deletefile(rclone: Rclone, server: LocalB2, bucket: str, tmp_path: Path) -> None:
    base = f"{REMOTE}:{bucket}"
    _put(rclone, tmp_path, f"{base}/keep.txt", b"keep", 1_600_000_000_123)
    _put(rclone, tmp_path, f"{base}/gone.txt", b"gone", 1_600_000_000_123)
    server.reset_calls()
    rclone.run("deletefile", f"{base}/gone.txt")  # by default B2 files are hidden
    assert (server.calls["b2_hide_file"], server.calls["b2_delete_file_version"]) == (1, 0)
    assert rclone.lsf(base) == ["keep.txt"]
    hidden, keep = rclone.lsf(base, "--b2-versions")
    assert (VERSION.sub("", hidden), keep) == ("gone.txt", "keep.txt")
    assert rclone.run("cat", "--b2-versions", f"{base}/{hidden}").stdout == b"gone"
    assert rclone.run("cat", f"{base}/gone.txt", ok=False).stdout == b""  # HEAD: 404
    server.reset_calls()
    rclone.run("deletefile", "--b2-hard-delete", f"{base}/keep.txt")
    assert (server.calls["b2_hide_file"], server.calls["b2_delete_file_version"]) == (0, 1)
    assert rclone.lsf(base, "--b2-versions") == [hidden]


def test_purge(rclone: Rclone, server: LocalB2, bucket: str, tmp_path: Path) -> None:
    base = f"{REMOTE}:{bucket}"
    for name, content in [
        ("d/a.txt", b"a1"),
        ("d/a.txt", b"a22"),
        ("d/sub/b.txt", b"b"),
        ("d/hidden.txt", b"h"),
        ("top.txt", b"top"),
    ]:
        _put(rclone, tmp_path, f"{base}/{name}", content, 1_600_000_000_000 + len(content))
    rclone.run("deletefile", f"{base}/d/hidden.txt")
    server.reset_calls()
    rclone.run("purge", f"{base}/d")  # every version under d/, hide markers included
    assert server.calls["b2_delete_file_version"] == 5
    assert rclone.lsf(base, "-R", "--b2-versions") == ["top.txt"]
    assert rclone.run("cat", f"{base}/top.txt").stdout == b"top"
    server.reset_calls()
    rclone.run("purge", base)  # the whole bucket: its files, then the bucket
    assert server.calls["b2_delete_file_version"] == 1
    assert server.calls["b2_delete_bucket"] == 1
    assert bucket not in rclone.text("lsd", f"{REMOTE}:")
