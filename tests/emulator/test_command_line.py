"""The local server's command line and constructor: a bad bucket spec or a busy port is one
clear line on stderr and exit status 2 (or a ``ValueError`` in Python), never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from b2_storage.emulator import LocalB2


def run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "b2_storage.emulator", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--bucket", "media"], "Invalid bucket name 'media': B2 wants 6 to 63 letters"),
        (["--bucket", "b2-media"], "Invalid bucket name 'b2-media'"),
        (["--bucket", "my_media"], "Invalid bucket name 'my_media'"),
        (["--bucket", "my-media:public"], "Bucket type must be allPrivate or allPublic"),
    ],
)
def test_a_bad_bucket_spec_is_one_line_and_status_2(args: list[str], said: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("python -m b2_storage.emulator: error: --bucket ") and said in line


def test_a_busy_port_is_one_line_and_status_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--port", str(port), "--bucket", "my-media")
    assert result.returncode == 2
    assert result.stdout == ""  # nothing printed as if it were serving
    assert result.stderr.splitlines() == [
        f"python -m b2_storage.emulator: error: cannot listen on 127.0.0.1:{port}: "
        "Address already in use"
    ]


def test_localb2_refuses_a_bad_bucket_name_when_built() -> None:
    with pytest.raises(ValueError, match="Invalid bucket name 'media'"):
        LocalB2(buckets=["media"])


def test_create_bucket_refuses_a_bad_name(b2_server: LocalB2) -> None:
    with pytest.raises(ValueError, match="Invalid bucket name 'other'"):
        b2_server.create_bucket("other")
    with pytest.raises(ValueError, match="allPrivate or allPublic"):
        b2_server.create_bucket("other-bucket", "private")
