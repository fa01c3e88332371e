"""Third-party B2 clients (rclone, restic) run as subprocesses against the local B2 server.

Each tool runs with an environment of its own: ``HOME``, the XDG directories, rclone's config
file and cache, and restic's cache all point into a temporary directory, so ``~`` is never read
or written; inherited ``RCLONE_*``, ``RESTIC_*`` and ``B2_*`` variables are dropped; ``TZ`` is
UTC, so times print the same everywhere; stdin is closed and every run has a timeout.

In CI (``CI`` set) a missing tool fails the test; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from b2_storage.emulator import LocalB2

TIMEOUT = 60
REMOTE = "lb2"
# A fixed key: the rclone config file is written once per module, before any test runs.
KEY_ID = "000c0nf0rmance0000000001"
KEY = "K000LocalB2ConformanceKeyForClis"
# rclone refuses --b2-chunk-size below 5 MiB; B2's (and LocalB2's default) minimum part is
# 5,000,000 bytes, so every part rclone makes is one B2 accepts.
MIN_PART = 5_000_000
RCLONE_MIN_CHUNK = 5 * 1024 * 1024
MTIME_MS = 1_600_000_000_123  # 2020-09-13T12:26:40.123Z


def in_ci() -> bool:
    """Return whether the tests run in CI, where a missing tool is a failure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_tool(name: str, version_args: list[str], pattern: str, minimum: tuple[int, ...]) -> str:
    """Return the path of ``name`` at ``minimum`` version or newer; skip (fail in CI) if absent."""
    exe = shutil.which(name)
    problem = f"{name} is not installed (apt-get install {name})"
    if exe is not None:
        result = subprocess.run(
            [exe, *version_args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        match = re.search(pattern, result.stdout)
        version = tuple(int(n) for n in match.groups()) if match else ()
        if result.returncode == 0 and version >= minimum:
            return exe
        problem = f"{exe} is not {name} {'.'.join(map(str, minimum))}+: {result.stdout[:200]!r}"
    if in_ci():
        pytest.fail(f"{name} is required in CI: {problem}")
    pytest.skip(f"needs {name}: {problem}")


@contextmanager
def local_b2(min_part_size: int = MIN_PART) -> Iterator[LocalB2]:
    """Run a LocalB2 with the fixed key and (by default) B2's real minimum part size."""
    with LocalB2(
        host="127.0.0.1",
        port=0,
        application_key_id=KEY_ID,
        application_key=KEY,
        min_part_size=min_part_size,
    ) as server:
        yield server


def data(size: int, seed: int = 0) -> bytes:
    """Return ``size`` reproducible random bytes."""
    return random.Random(seed).randbytes(size)


def write(path: Path, content: bytes, mtime_ms: int = MTIME_MS) -> Path:
    """Write ``content`` to ``path`` (making parents) with a fixed modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, ns=(mtime_ms * 1_000_000, mtime_ms * 1_000_000))
    return path


def tree(root: Path) -> dict[str, bytes]:
    """Return every file under ``root`` as ``{relative posix path: bytes}``."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@dataclass
class Rclone:
    """rclone bound to one LocalB2 through a private config file and home directory."""

    exe: str
    server: LocalB2
    home: Path

    def __post_init__(self) -> None:
        self.config = self.home / "rclone.conf"
        self.config.write_text(
            f"[{REMOTE}]\ntype = b2\naccount = {self.server.application_key_id}\n"
            f"key = {self.server.application_key}\nendpoint = {self.server.realm}\n",
            encoding="utf-8",
        )

    def env(self) -> dict[str, str]:
        """Return the environment rclone (and restic, which starts rclone) runs with."""
        prefixes = ("RCLONE_", "RESTIC_", "B2_", "XDG_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / "config"),
            XDG_CACHE_HOME=str(self.home / "cache"),
            RCLONE_CONFIG=str(self.config),
            RCLONE_CACHE_DIR=str(self.home / "cache" / "rclone"),
            TZ="UTC",
            # Fail fast: the server must answer right the first time, not after retries.
            RCLONE_RETRIES="1",
            RCLONE_LOW_LEVEL_RETRIES="2",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        return env

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[bytes]:
        """Run ``rclone args``; unless ``ok`` is False, assert it succeeded."""
        result = subprocess.run(
            [self.exe, *args],
            env=self.env(),
            cwd=self.home,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
        )
        if ok:
            assert result.returncode == 0, f"rclone {args} failed:\n{show(result)}"
        return result

    def text(self, *args: str) -> str:
        """Run a command and return its standard output as text."""
        return self.run(*args).stdout.decode("utf-8")

    def lsjson(self, path: str, *options: str) -> dict[str, dict[str, Any]]:
        """``rclone lsjson``: the entries under ``path``, by their ``Path``."""
        return {item["Path"]: item for item in json.loads(self.text("lsjson", *options, path))}

    def lsf(self, path: str, *options: str) -> list[str]:
        """``rclone lsf``: the names under ``path``, sorted."""
        return sorted(self.text("lsf", *options, path).splitlines())


def rclone_on(server: LocalB2, home: Path) -> Rclone:
    """Return rclone 1.60+ on ``server`` (missing: a failure in CI, a skip elsewhere)."""
    exe = find_tool("rclone", ["version"], r"rclone v(\d+)\.(\d+)", (1, 60))
    return Rclone(exe, server, home)


def show(result: subprocess.CompletedProcess[bytes]) -> str:
    """Return a finished process's exit code and output, for an assertion message."""
    out = result.stdout.decode("utf-8", "replace")[-3000:]
    err = result.stderr.decode("utf-8", "replace")[-3000:]
    return f"exit {result.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"


# The module fixtures of the rclone and restic tests (imported by each test module).
@pytest.fixture(scope="module")
def server() -> Iterator[LocalB2]:
    """A local B2 server for one test module."""
    with local_b2() as running:
        yield running


@pytest.fixture(scope="module")
def rclone(server: LocalB2, tmp_path_factory: pytest.TempPathFactory) -> Rclone:
    """rclone with its own home, configured for the module's server."""
    return rclone_on(server, tmp_path_factory.mktemp("rclone-home"))
