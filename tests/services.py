"""Services the tests start for themselves: a private ``redis-server`` on a free port.

In CI (``CI`` set) a missing service fails the test that needs it; elsewhere it skips with the
reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest


def missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (required in CI)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_pong(port: int, process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    """Return once Redis answers PING on ``port``; fail if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(64).startswith(b"+PONG"):
                    return
        except OSError:  # not listening yet (refused at once) or still loading
            continue
    pytest.fail(f"redis-server did not answer PING on port {port} within {seconds} s")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a private redis-server on a free port of 127.0.0.1; return its URL."""
    if shutil.which("redis-server") is None:
        missing("redis-server not installed: apt-get install redis-server (or brew install redis)")
    try:
        import redis  # noqa: F401 - Django's RedisCache needs it
    except ImportError:
        missing("the redis package is not installed: pip install redis")
    workdir = tmp_path_factory.mktemp("redis")
    port = free_port()
    with (workdir / "redis.log").open("wb") as log:
        process = start_redis(port, workdir, log)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop_redis(process)


def start_redis(
    port: int, workdir: Path | str, log: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``redis-server`` (on PATH) on ``port`` of 127.0.0.1, persisting nothing, its files
    in ``workdir`` and its output in ``log`` (else discarded); return it once it answers PING."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL if log is None else log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_pong(port, process)
    except BaseException:
        stop_redis(process)
        raise
    return process


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` (it is ours) and reap it."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
