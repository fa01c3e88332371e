"""The official ``b2`` command-line tool (5.x), bound to one local B2 server and one private home
directory, for the CLI tests (see :mod:`.test_b2_cli`)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sysconfig
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from b2_storage.emulator import LocalB2

PART = 1_000_000  # small part sizes, so a LARGE upload goes through the large-file API
MTIME_MS = 1_600_000_000_123
TIMEOUT = 60


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_b2() -> tuple[list[str] | None, str]:
    """Return the command running the b2 CLI 5.x, or None and why there is none.

    The console script next to this interpreter comes first (a venv need not be on PATH), then
    PATH. ``python -m b2`` does not work: the ``b2`` package has no ``__main__``.
    """
    name = "b2.exe" if os.name == "nt" else "b2"
    found = [shutil.which(name, path=sysconfig.get_path("scripts")), shutil.which("b2")]
    problems = []
    for exe in dict.fromkeys(path for path in found if path):
        result = subprocess.run(
            [exe, "version"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        match = re.search(r"version (\d+)\.", result.stdout)
        if result.returncode == 0 and match and match.group(1) == "5":
            return [exe], ""
        problems.append(f"{exe} is not the b2 CLI 5.x: {(result.stdout or result.stderr)[:200]!r}")
    return None, "; ".join(problems) or "the b2 CLI is not installed (pip install 'b2==5.*')"


@dataclass
class Cli:
    """The b2 CLI bound to one server and one private home directory."""

    command: list[str]
    server: LocalB2
    home: Path

    def env(self, *, keys: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("B2_")}
        for name in ("XDG_CONFIG_HOME", "PYTHONWARNINGS"):
            env.pop(name, None)
        env.update(
            HOME=str(self.home),
            USERPROFILE=str(self.home),
            B2_ENVIRONMENT=self.server.realm,
            B2_ACCOUNT_INFO=str(self.home / "account_info"),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            PYTHONUTF8="1",
            PYTHONIOENCODING="utf-8",
        )
        if keys:
            env["B2_APPLICATION_KEY_ID"] = self.server.application_key_id
            env["B2_APPLICATION_KEY"] = self.server.application_key
        return env

    def run(
        self,
        *args: str,
        ok: bool = True,
        keys: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env(keys=keys), **(extra_env or {})}
        result = subprocess.run(
            [*self.command, *args],
            env=env,
            cwd=self.home,
            capture_output=True,
            text=True,
            encoding="utf-8",
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
        )
        if ok:
            assert result.returncode == 0, f"b2 {args}: {result.stdout}\n{result.stderr}"
        return result

    def json(self, *args: str) -> Any:
        """Run a command and parse the JSON its output ends with (after any text lines)."""
        out = self.run(*args).stdout
        start = next(m.start() for m in re.finditer(r"^[\[{]", out, re.MULTILINE))
        return json.loads(out[start:])

    def upload(self, bucket: str, path: Path, name: str, *options: str) -> dict[str, Any]:
        return self.json("file", "upload", "--no-progress", *options, bucket, str(path), name)

    def ls(self, uri: str, *options: str) -> list[str]:
        return self.run("ls", *options, uri).stdout.splitlines()

    def versions(self, bucket: str) -> list[tuple[str, str, int, str]]:
        """``ls -r -l --versions``: (name, action, size, fileId), in listing order."""
        rows = []
        for line in self.ls(f"b2://{bucket}/", "-r", "-l", "--versions"):
            file_id, action, _date, _time, size, name = line.split(maxsplit=5)
            rows.append((name, action, int(size), file_id))
        return rows


# The module fixtures of the b2 CLI tests (imported by each test module: one CLI and one server
# per module).
@pytest.fixture(scope="module")
def b2_command() -> list[str]:
    """The command running the b2 CLI 5.x; skip (fail in CI) when there is none."""
    command, problem = find_b2()
    if command is None:
        if in_ci():
            pytest.fail(f"b2 CLI tests cannot run in CI: {problem}")
        pytest.skip(f"b2 CLI tests need the b2 CLI 5.x: {problem}")
    return command


@pytest.fixture(scope="module")
def server() -> Iterator[LocalB2]:
    """A local B2 server with small part sizes, for one test module."""
    with LocalB2(host="127.0.0.1", port=0, min_part_size=PART, recommended_part_size=PART) as s:
        yield s


@pytest.fixture(scope="module")
def cli(b2_command: list[str], server: LocalB2, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The CLI, authorized once for the module (account info in its own sqlite file)."""
    tool = Cli(b2_command, server, tmp_path_factory.mktemp("b2home"))
    tool.run("account", "authorize")
    return tool


@pytest.fixture
def bucket(cli: Cli) -> str:
    """A new private bucket, made with the CLI."""
    name = f"cli-{uuid.uuid4().hex[:12]}"
    cli.run("bucket", "create", name, "allPrivate")
    return name


def random_bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(MTIME_MS * 1_000_000, MTIME_MS * 1_000_000))
    return path


def file_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
