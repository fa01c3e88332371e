"""restic, through its rclone backend, against the local B2 server.

restic's own ``b2:`` backend always talks to Backblaze's production host, so these tests use
``rclone:lb2:<bucket>/repo``: restic starts ``rclone serve restic --stdio --b2-hard-delete``,
which speaks B2 native API v1 to the local server. rclone's config, restic's cache and ``HOME``
are private (see :mod:`.thirdparty`). Outcomes are checked with restic's JSON output, restored
bytes, the repository's files as rclone lists them and the server's call counts.

In CI (``CI`` set) a missing rclone or restic fails these tests; elsewhere they are skipped.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from b2_storage.emulator import LocalB2

from .thirdparty import (
    MTIME_MS,
    REMOTE,
    TIMEOUT,
    Rclone,
    data,
    find_tool,
    rclone,
    server,
    show,
    tree,
    write,
)

PASSWORD = "correct horse battery staple"
FILES = {
    "a.txt": b"hello restic\n",
    "empty": b"",
    "nested/deeper/deepest/leaf.txt": b"leaf\n",
    "nested/ünïcødé näme.txt": "ünïcødé\n".encode(),
}
BIG = ("nested/big.bin", 3_000_000)


@dataclass
class Restic:
    """restic with a private cache, driving rclone (and so the local server) for its storage."""

    exe: str
    rclone: Rclone

    def run(self, repo: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[bytes]:
        env = self.rclone.env()
        env.update(
            RESTIC_PASSWORD=PASSWORD, RESTIC_CACHE_DIR=str(self.rclone.home / "restic-cache")
        )
        command = [self.exe, "-r", repo, "-o", f"rclone.program={self.rclone.exe}", *args]
        result = subprocess.run(
            command,
            env=env,
            cwd=self.rclone.home,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
        )
        if ok:
            assert result.returncode == 0, f"restic {args} failed:\n{show(result)}"
        return result

    def json(self, repo: str, *args: str) -> Any:
        return json.loads(self.run(repo, *args, "--json").stdout)

    def backup(self, repo: str, src: Path) -> dict[str, Any]:
        """Back ``src`` up; return restic's JSON summary of the backup."""
        lines = self.run(repo, "backup", "--json", str(src)).stdout.decode().splitlines()
        messages = [json.loads(line) for line in lines if line.startswith("{")]
        return next(m for m in messages if m["message_type"] == "summary")


@pytest.fixture(scope="module")
def restic(rclone: Rclone) -> Restic:
    exe = find_tool("restic", ["version"], r"restic (\d+)\.(\d+)", (0, 14))
    return Restic(exe, rclone)


@dataclass(frozen=True)
class Repo:
    """A restic repository in its own bucket, as restic and rclone address it."""

    bucket: str

    @property
    def remote(self) -> str:
        return f"{REMOTE}:{self.bucket}/repo"

    @property
    def url(self) -> str:
        return f"rclone:{self.remote}"


@dataclass(frozen=True)
class Backup:
    """One ``init`` then ``backup`` of a small tree, shared read-only by the module's tests."""

    repo: Repo
    src: Path
    init: str
    summary: dict[str, Any]


def _source_tree(root: Path) -> Path:
    for rel, content in FILES.items():
        write(root / rel, content)
    write(root / BIG[0], data(BIG[1], seed=3))
    (root / "nested" / "empty dir").mkdir()
    return root


@pytest.fixture(scope="module")
def backup(restic: Restic, tmp_path_factory: pytest.TempPathFactory) -> Backup:
    # The bucket does not exist yet: init creates it (rclone's Mkdir: b2_create_bucket).
    repo = Repo(f"restic-{uuid.uuid4().hex[:12]}")
    src = _source_tree(tmp_path_factory.mktemp("restic-src") / "tree")
    init = restic.run(repo.url, "init").stdout.decode()
    return Backup(repo, src, init, restic.backup(repo.url, src))


def test_init(restic: Restic, rclone: Rclone, backup: Backup) -> None:
    created = re.compile(rf"^created restic repository [0-9a-f]{{10}} at {backup.repo.url}$")
    assert any(created.match(line) for line in backup.init.splitlines()), backup.init
    assert backup.repo.bucket in rclone.text("lsd", f"{REMOTE}:").split()
    files = rclone.lsf(backup.repo.remote, "-R", "--files-only")
    assert "config" in files
    assert len([f for f in files if re.fullmatch(r"keys/[0-9a-f]{64}", f)]) == 1
    assert any(re.fullmatch(r"data/[0-9a-f]{2}/[0-9a-f]{64}", f) for f in files)
    # A second init finds the config (HEAD on download by name) and refuses.
    again = restic.run(backup.repo.url, "init", ok=False)
    assert again.returncode == 1, show(again)
    assert "config file already exists" in again.stderr.decode()


def test_backup(backup: Backup) -> None:
    summary = backup.summary
    assert summary["files_new"] == len(FILES) + 1
    assert summary["files_changed"] == summary["files_unmodified"] == 0
    assert summary["total_files_processed"] == len(FILES) + 1
    assert summary["total_bytes_processed"] == sum(map(len, FILES.values())) + BIG[1]
    assert re.fullmatch(r"[0-9a-f]{8}", summary["snapshot_id"])


def test_snapshots(restic: Restic, backup: Backup) -> None:
    (snapshot,) = restic.json(backup.repo.url, "snapshots")
    assert snapshot["short_id"] == backup.summary["snapshot_id"]
    assert snapshot["id"].startswith(snapshot["short_id"])
    assert snapshot["paths"] == [str(backup.src)]


def test_restore(restic: Restic, backup: Backup, tmp_path: Path) -> None:
    target = tmp_path / "restored"
    restic.run(backup.repo.url, "restore", backup.summary["snapshot_id"], "--target", str(target))
    restored = target / backup.src.relative_to(backup.src.anchor)  # restic keeps the full path
    assert tree(restored) == tree(backup.src)
    assert set(tree(restored)) == {*FILES, BIG[0]}
    assert (restored / "nested" / "empty dir").is_dir()
    for rel in tree(restored):
        assert (restored / rel).stat().st_mtime_ns == MTIME_MS * 1_000_000, rel


def test_check_read_data(restic: Restic, rclone: Rclone, server: LocalB2, backup: Backup) -> None:
    packs = rclone.lsf(f"{backup.repo.remote}/data", "-R", "--files-only")
    server.reset_calls()
    result = restic.run(backup.repo.url, "check", "--read-data")
    assert "no errors were found" in result.stdout.decode(), show(result)
    downloads = server.calls["b2_download_file_by_id"] + server.calls["b2_download_file_by_name"]
    assert downloads >= len(packs) > 0  # every pack was read back
    # restic removed its lock (rclone: b2_delete_file_version, --b2-hard-delete).
    assert server.calls["b2_delete_file_version"] >= 1
    assert rclone.lsf(f"{backup.repo.remote}/locks", "--b2-versions") == []


def test_forget_prune(restic: Restic, rclone: Rclone, server: LocalB2, tmp_path: Path) -> None:
    repo = Repo(f"restic-{uuid.uuid4().hex[:12]}")
    server.create_bucket(repo.bucket)  # an existing bucket: init gets duplicate_bucket_name
    src = tmp_path / "src"
    write(src / "keep.txt", b"kept in both snapshots\n")
    write(src / "changing.bin", data(400_000, seed=4))
    restic.run(repo.url, "init")
    first = restic.backup(repo.url, src)["snapshot_id"]
    data_before = set(rclone.lsf(f"{repo.remote}/data", "-R", "--files-only"))
    write(src / "changing.bin", data(400_000, seed=5), MTIME_MS + 1000)
    second = restic.backup(repo.url, src)["snapshot_id"]
    assert first != second
    server.reset_calls()
    pruned = restic.run(repo.url, "forget", "--keep-last", "1", "--prune")
    assert "remove 1 snapshots:" in pruned.stdout.decode(), show(pruned)
    assert server.calls["b2_delete_file_version"] > 1
    (left,) = restic.json(repo.url, "snapshots")
    assert left["short_id"] == second
    data_after = set(rclone.lsf(f"{repo.remote}/data", "-R", "--files-only"))
    assert data_before - data_after, "prune deleted no pack of the forgotten snapshot"
    # Hard deletes: no hidden versions left behind anywhere in the repository.
    assert rclone.lsf(repo.remote, "-R", "--b2-versions") == rclone.lsf(repo.remote, "-R")
    checked = restic.run(repo.url, "check", "--read-data")
    assert "no errors were found" in checked.stdout.decode(), show(checked)
    target = tmp_path / "restored"
    restic.run(repo.url, "restore", "latest", "--target", str(target))
    assert tree(target / src.relative_to(src.anchor)) == tree(src)
