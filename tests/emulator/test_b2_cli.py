"""The official ``b2`` command-line tool (5.x) against the local B2 server.

Every test runs the real CLI in a subprocess, with an environment of its own: ``HOME`` and
``B2_ACCOUNT_INFO`` point into a temporary directory (``~/.b2_account_info`` is never touched),
``B2_ENVIRONMENT`` is the server's realm URL and stdin is closed, so nothing can prompt. Outcomes
are checked with the CLI's own output, the server's call counts and plain ``requests`` downloads.

In CI (``CI`` set) a missing ``b2`` fails these tests; elsewhere they are skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path

import pytest
import requests

from .b2cli import (
    MTIME_MS,
    PART,
    Cli,
    b2_command,
    bucket,
    cli,
    file_tree,
    random_bytes,
    server,
    write_file,
)

SIZES = {"small": 100_000, "large": 2 * PART + 500_000}


@pytest.mark.parametrize("source", ["env", "args"])
def test_account_authorize(cli: Cli, tmp_path: Path, source: str) -> None:
    fresh = Cli(cli.command, cli.server, tmp_path)
    key_id, key = cli.server.application_key_id, cli.server.application_key
    if source == "env":
        result = fresh.run("account", "authorize")
    else:
        result = fresh.run("account", "authorize", key_id, key, keys=False)
    account = json.loads(result.stdout)
    assert f"Using {cli.server.realm}" in result.stderr
    assert account["apiUrl"] == account["downloadUrl"] == cli.server.realm
    assert account["applicationKeyId"] == key_id
    assert account["isMasterKey"] is True
    assert {"listBuckets", "writeFiles", "readFiles"} <= set(account["allowed"]["capabilities"])
    assert account["accountFilePath"] == str(tmp_path / "account_info")
    assert (tmp_path / "account_info").is_file()
    assert not (tmp_path / ".b2_account_info").exists()
    # The stored authorization is used later, with no keys in the environment.
    stored = json.loads(fresh.run("account", "get", keys=False).stdout)
    assert stored["accountId"] == account["accountId"]
    assert stored["apiUrl"] == cli.server.realm


def test_account_authorize_rejects_a_wrong_key(cli: Cli, tmp_path: Path) -> None:
    fresh = Cli(cli.command, cli.server, tmp_path)
    result = fresh.run(
        "account", "authorize", cli.server.application_key_id, "nope", ok=False, keys=False
    )
    assert result.returncode == 1
    assert "ERROR: unable to authorize account" in result.stderr
    assert fresh.run("bucket", "list", ok=False, keys=False).returncode == 1


def test_bucket_create_and_list(cli: Cli) -> None:
    names = {
        kind: f"cli-{kind[3:].lower()}-{uuid.uuid4().hex[:8]}"
        for kind in ("allPrivate", "allPublic")
    }
    ids = {
        kind: cli.run("bucket", "create", name, kind).stdout.strip() for kind, name in names.items()
    }
    assert all(re.fullmatch(r"[0-9a-zA-Z]{1,50}", bucket_id) for bucket_id in ids.values())
    lines = cli.run("bucket", "list").stdout.splitlines()
    for kind, name in names.items():
        assert f"{ids[kind]}  {kind:<10}  {name}" in lines
    listed = {b["bucketName"]: b for b in cli.json("bucket", "list", "--json")}
    for kind, name in names.items():
        assert listed[name]["bucketId"] == ids[kind]
        assert listed[name]["bucketType"] == kind
    again = cli.run("bucket", "create", names["allPublic"], "allPublic", ok=False)
    assert again.returncode == 1
    assert f"ERROR: Bucket name is already in use: {names['allPublic']}" in again.stderr


@pytest.mark.parametrize("size", ["small", "large"])
def test_file_upload_with_info_then_file_info(
    cli: Cli, bucket: str, tmp_path: Path, size: str
) -> None:
    data = random_bytes(SIZES[size])
    sha1 = hashlib.sha1(data).hexdigest()
    path = write_file(tmp_path / "notes.txt", data)
    cli.server.reset_calls()
    info = ("--info", "color=blue", "--info", "note=hello world")
    uploaded = cli.upload(bucket, path, "docs/notes.txt", *info)
    assert cli.server.calls["b2_start_large_file"] == (1 if size == "large" else 0)
    assert uploaded["action"] == "upload"
    assert uploaded["fileName"] == "docs/notes.txt"
    assert uploaded["size"] == len(data)
    expected_info = {
        "color": "blue",
        "note": "hello world",
        "src_last_modified_millis": str(MTIME_MS),
    }
    if size == "large":
        expected_info["large_file_sha1"] = sha1
    assert uploaded["fileInfo"] == expected_info
    # b2/x-auto (the CLI's default) resolves from the name, large files included; B2 keeps no
    # whole-file SHA1 for a large file: "none" (the SHA1 the client sent is large_file_sha1).
    expected = ("text/plain", sha1 if size == "small" else "none")
    assert (uploaded["contentType"], uploaded["contentSha1"]) == expected
    for uri in (f"b2://{bucket}/docs/notes.txt", f"b2id://{uploaded['fileId']}"):
        shown = cli.json("file", "info", uri)
        for field in ("fileId", "fileName", "fileInfo", "contentSha1", "contentType", "size"):
            assert shown[field] == uploaded[field], (uri, field)


def test_ls_recursive_long_and_versions(cli: Cli, bucket: str, tmp_path: Path) -> None:
    ids: dict[str, list[str]] = {}
    for name, data in [
        ("a.txt", b"first"),
        ("dir/b.txt", b"bb"),
        ("dir/sub/c.txt", b"ccc"),
        ("a.txt", b"second!"),
    ]:
        ids.setdefault(name, []).append(
            cli.upload(bucket, write_file(tmp_path / "f", data), name)["fileId"]
        )
    assert cli.ls(f"b2://{bucket}/") == ["a.txt", "dir/"]
    assert cli.ls(f"b2://{bucket}/", "-r") == ["a.txt", "dir/b.txt", "dir/sub/c.txt"]
    assert cli.ls(f"b2://{bucket}/dir/", "-r") == ["dir/b.txt", "dir/sub/c.txt"]
    assert cli.ls(f"b2://{bucket}/dir/") == ["dir/b.txt", "dir/sub/"]
    long_lines = cli.ls(f"b2://{bucket}/", "-r", "-l")
    assert [line.split(maxsplit=5)[::5] for line in long_lines] == [
        [ids["a.txt"][1], "a.txt"],
        [ids["dir/b.txt"][0], "dir/b.txt"],
        [ids["dir/sub/c.txt"][0], "dir/sub/c.txt"],
    ]
    assert cli.versions(bucket) == [
        ("a.txt", "upload", 7, ids["a.txt"][1]),  # newest first within a name
        ("a.txt", "upload", 5, ids["a.txt"][0]),
        ("dir/b.txt", "upload", 2, ids["dir/b.txt"][0]),
        ("dir/sub/c.txt", "upload", 3, ids["dir/sub/c.txt"][0]),
    ]


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("by", ["name", "id"])
def test_file_download(cli: Cli, bucket: str, tmp_path: Path, by: str, size: str) -> None:
    data = random_bytes(SIZES[size], seed=1)
    uploaded = cli.upload(bucket, write_file(tmp_path / "src.bin", data), "dl/file.bin")
    uri = f"b2://{bucket}/dl/file.bin" if by == "name" else f"b2id://{uploaded['fileId']}"
    out = tmp_path / "out" / "copy.bin"
    out.parent.mkdir()
    result = cli.run("file", "download", "--no-progress", uri, str(out))
    got = out.read_bytes()
    assert len(got) == len(data)
    assert hashlib.sha1(got).hexdigest() == hashlib.sha1(data).hexdigest()
    assert got == data
    assert f"File id:             {uploaded['fileId']}" in result.stdout
    # The local mtime comes back from src_last_modified_millis.
    assert abs(out.stat().st_mtime_ns // 1_000_000 - MTIME_MS) <= 1


def test_file_url_with_auth(cli: Cli, bucket: str, tmp_path: Path) -> None:
    name = "docs/hello world ü.txt"
    data = b"private bytes \x00\xff"
    cli.upload(bucket, write_file(tmp_path / "f", data), name)
    cli.upload(bucket, write_file(tmp_path / "g", b"other"), "docs/other.txt")
    plain = cli.run("file", "url", f"b2://{bucket}/{name}").stdout.strip()
    assert plain.startswith(f"{cli.server.realm}/file/{bucket}/docs/")
    denied = requests.get(plain, timeout=10)
    assert denied.status_code == 401
    assert denied.json()["status"] == 401
    signed = cli.run("file", "url", "--with-auth", f"b2://{bucket}/{name}").stdout.strip()
    assert signed.startswith(plain + "?Authorization=")
    response = requests.get(signed, timeout=10)
    assert response.status_code == 200
    assert response.content == data
    # The token is for names starting with this file's name only.
    token = signed.split("?Authorization=", 1)[1]
    other = requests.get(
        f"{cli.server.realm}/file/{bucket}/docs/other.txt",
        params={"Authorization": token},
        timeout=10,
    )
    assert other.status_code == 401


def test_bucket_get_download_auth(cli: Cli, bucket: str, tmp_path: Path) -> None:
    files = {"shared/a.txt": b"shared data", "secret/b.txt": b"secret data"}
    for name, data in files.items():
        cli.upload(bucket, write_file(tmp_path / "f", data), name)

    def fetch(name: str, token: str | None) -> requests.Response:
        params = {} if token is None else {"Authorization": token}
        return requests.get(f"{cli.server.realm}/file/{bucket}/{name}", params=params, timeout=10)

    token = cli.run(
        "bucket", "get-download-auth", "--prefix", "shared/", "--duration", "600", bucket
    ).stdout.strip()
    assert token and "\n" not in token
    allowed = fetch("shared/a.txt", token)
    assert (allowed.status_code, allowed.content) == (200, files["shared/a.txt"])
    assert fetch("secret/b.txt", token).status_code == 401
    assert fetch("shared/a.txt", None).status_code == 401
    whole_bucket = cli.run("bucket", "get-download-auth", bucket).stdout.strip()
    for name, data in files.items():
        response = fetch(name, whole_bucket)
        assert (response.status_code, response.content) == (200, data)


def test_file_hide(cli: Cli, bucket: str, tmp_path: Path) -> None:
    cli.upload(bucket, write_file(tmp_path / "k", b"keep"), "keep.txt")
    gone = cli.upload(bucket, write_file(tmp_path / "g", b"to hide"), "gone.txt")
    marker = cli.json("file", "hide", f"b2://{bucket}/gone.txt")
    assert (marker["action"], marker["fileName"], marker["size"]) == ("hide", "gone.txt", 0)
    assert marker["fileId"] != gone["fileId"]
    assert cli.ls(f"b2://{bucket}/", "-r") == ["keep.txt"]
    assert [row[:3] for row in cli.versions(bucket)] == [
        ("gone.txt", "hide", 0),
        ("gone.txt", "upload", 7),
        ("keep.txt", "upload", 4),
    ]
    info = cli.run("file", "info", f"b2://{bucket}/gone.txt", ok=False)
    assert info.returncode == 1
    assert "File not present: gone.txt" in info.stderr
    # The hidden version stays downloadable by id.
    out = tmp_path / "old.txt"
    cli.run("file", "download", "--no-progress", f"b2id://{gone['fileId']}", str(out))
    assert out.read_bytes() == b"to hide"


def test_rm_versions(cli: Cli, bucket: str, tmp_path: Path) -> None:
    for name, data in [
        ("a.txt", b"1"),
        ("a.txt", b"22"),
        ("x.txt", b"x"),
        ("dir/b.txt", b"b"),
        ("dir/sub/c.txt", b"c"),
    ]:
        cli.upload(bucket, write_file(tmp_path / "f", data), name)
    cli.run("file", "hide", f"b2://{bucket}/x.txt")
    not_empty = cli.run("bucket", "delete", bucket, ok=False)
    assert not_empty.returncode == 1
    cli.run("rm", "-r", "--versions", "--no-progress", f"b2://{bucket}/dir/")
    assert [row[:2] for row in cli.versions(bucket)] == [
        ("a.txt", "upload"),
        ("a.txt", "upload"),
        ("x.txt", "hide"),
        ("x.txt", "upload"),
    ]
    cli.run("rm", "-r", "--versions", "--no-progress", f"b2://{bucket}/")
    assert cli.versions(bucket) == []
    assert cli.ls(f"b2://{bucket}/", "-r") == []
    cli.run("bucket", "delete", bucket)  # B2 deletes only a bucket with no file versions left
    assert bucket not in cli.run("bucket", "list").stdout


def test_sync_up_and_down(cli: Cli, bucket: str, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    files = {
        "top.txt": b"top\n",
        "empty": b"",
        "a/name with spaces.txt": b"spaces",
        "a/b/c/deep.bin": random_bytes(70_000, seed=2),
        "a/ünïcode.txt": "ü".encode(),
    }
    for rel, data in files.items():
        write_file(src / rel, data)
    up = cli.run("sync", "--no-progress", str(src), f"b2://{bucket}/backup")
    assert up.stdout.count("upload ") == len(files)
    assert cli.ls(f"b2://{bucket}/backup/", "-r") == sorted(f"backup/{rel}" for rel in files)
    # Nothing changed locally: a second sync uploads nothing (mod times round-trip).
    before = cli.versions(bucket)
    assert cli.run("sync", "--no-progress", str(src), f"b2://{bucket}/backup").stdout == ""
    assert cli.versions(bucket) == before
    down = cli.run("sync", "--no-progress", f"b2://{bucket}/backup", str(dst))
    assert down.stdout.count("dnload ") == len(files)
    assert file_tree(dst) == file_tree(src) == files
    assert all(abs(p.stat().st_mtime_ns // 1_000_000 - MTIME_MS) <= 1 for p in dst.rglob("*.txt"))
    # --delete removes what the source no longer has, all versions of it.
    (src / "top.txt").unlink()
    cli.run("sync", "--no-progress", "--delete", str(src), f"b2://{bucket}/backup")
    assert "backup/top.txt" not in {row[0] for row in cli.versions(bucket)}
    assert len(cli.versions(bucket)) == len(files) - 1
