"""More of the official ``b2`` CLI (5.x) against the local B2 server: application keys,
server-side copy, and the clear refusal of what the server does not implement.

The CLI runs as in :mod:`.test_b2_cli`: a subprocess with its own ``HOME`` and account file.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .b2cli import Cli, b2_command, bucket, cli, server, write_file


def assert_refused(result: object, *words: str) -> None:
    """The CLI failed, and its message says the server does not implement the feature."""
    assert getattr(result, "returncode") == 1  # noqa: B009 - CompletedProcess
    stderr = getattr(result, "stderr")  # noqa: B009
    assert "not_implemented" in stderr, stderr
    for word in words:
        assert word in stderr, stderr


# -- keys ----------------------------------------------------------------------------------
def test_key_create_list_delete(cli: Cli, bucket: str, tmp_path: Path) -> None:
    caps = "listBuckets,listFiles,readFiles,writeFiles"
    created = cli.run(
        "key", "create", "--bucket", bucket, "--name-prefix", "docs/", "cli-key", caps
    ).stdout.split()
    assert len(created) == 2
    key_id, key = created
    long = cli.run("key", "list", "--long").stdout.splitlines()
    line = next(row for row in long if row.startswith(key_id))
    assert line.split()[1:3] == ["cli-key", bucket]
    assert "'docs/'" in line and line.split()[-1] == caps
    assert cli.server.application_key_id not in cli.run("key", "list").stdout
    # The new key works in a CLI of its own, inside its bucket and prefix only.
    other = Cli(cli.command, cli.server, tmp_path)
    other.run("account", "authorize", key_id, key, keys=False)
    other.run(
        "file",
        "upload",
        "--no-progress",
        bucket,
        str(write_file(tmp_path / "a", b"a")),
        "docs/a.txt",
        keys=False,
    )
    assert other.run("ls", "-r", f"b2://{bucket}/docs/", keys=False).stdout.split() == [
        "docs/a.txt"
    ]
    outside = other.run(
        "file",
        "upload",
        "--no-progress",
        bucket,
        str(tmp_path / "a"),
        "private/a.txt",
        ok=False,
        keys=False,
    )
    assert outside.returncode == 1
    cli.run("key", "delete", key_id)
    assert key_id not in cli.run("key", "list").stdout
    assert other.run("ls", f"b2://{bucket}/", ok=False, keys=False).returncode == 1


def test_key_create_with_duration(cli: Cli) -> None:
    key_id, _key = cli.run(
        "key", "create", "--duration", "3600", "short", "listBuckets"
    ).stdout.split()
    line = next(
        row
        for row in cli.run("key", "list", "--long").stdout.splitlines()
        if row.startswith(key_id)
    )
    assert line.split()[3] != "-"  # an expiry date
    cli.run("key", "delete", key_id)


def test_key_create_all_capabilities_is_refused(cli: Cli) -> None:
    """``--all-capabilities`` asks for object lock and more: named, not silently dropped."""
    result = cli.run("key", "create", "--all-capabilities", "everything", ok=False)
    assert_refused(result, "object lock")


# -- refusals ------------------------------------------------------------------------------
def test_file_lock_bucket_is_refused(cli: Cli) -> None:
    name = f"cli-lock-{uuid.uuid4().hex[:8]}"
    result = cli.run("bucket", "create", "--file-lock-enabled", name, "allPrivate", ok=False)
    assert_refused(result, "object lock")
    assert name not in cli.run("bucket", "list").stdout


@pytest.mark.parametrize("mode", ["SSE-B2", "SSE-C"])
def test_encrypted_upload_is_refused(cli: Cli, bucket: str, tmp_path: Path, mode: str) -> None:
    source = write_file(tmp_path / "secret.txt", b"secret")
    options = ["--destination-server-side-encryption", mode]
    env_key = {"B2_DESTINATION_SSE_C_KEY_B64": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
    result = cli.run(
        "file",
        "upload",
        "--no-progress",
        *options,
        bucket,
        str(source),
        "secret.txt",
        ok=False,
        extra_env=env_key,
    )
    assert_refused(result, mode)
    assert cli.ls(f"b2://{bucket}/", "-r", "--versions") == []


# -- server-side copy ----------------------------------------------------------------------
def test_file_server_side_copy(cli: Cli, bucket: str, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    source = write_file(tmp_path / "src.bin", data)
    uploaded = cli.upload(bucket, source, "src.bin", "--info", "color=blue")
    other = f"cli-{uuid.uuid4().hex[:12]}"
    cli.run("bucket", "create", other, "allPrivate")
    cli.server.reset_calls()
    copied = cli.json(
        "file", "server-side-copy", f"b2id://{uploaded['fileId']}", f"b2://{other}/copy.bin"
    )
    assert cli.server.calls["b2_copy_file"] == 1
    assert copied["fileName"] == "copy.bin" and copied["size"] == len(data)
    assert copied["fileInfo"]["color"] == "blue"
    ranged = cli.json(
        "file",
        "server-side-copy",
        "--range",
        "10,19",
        f"b2://{bucket}/src.bin",
        f"b2://{bucket}/part.bin",
    )
    assert ranged["size"] == 10
    replaced = cli.json(
        "file",
        "server-side-copy",
        "--content-type",
        "text/plain",
        "--info",
        "a=b",
        f"b2id://{uploaded['fileId']}",
        f"b2://{bucket}/replaced.txt",
    )
    assert (replaced["contentType"], replaced["fileInfo"]) == ("text/plain", {"a": "b"})
    for uri, expected in [
        (f"b2://{other}/copy.bin", data),
        (f"b2://{bucket}/part.bin", data[10:20]),
    ]:
        out = tmp_path / "out.bin"
        cli.run("file", "download", "--no-progress", uri, str(out))
        assert out.read_bytes() == expected
