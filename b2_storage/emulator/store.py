"""Where the local B2 server keeps its state: SQLite metadata beside a directory of blob files.

One class, :class:`Store`, owns both. Metadata lives in SQLite (a file in the data directory, or
an in-memory database), blobs are plain files, so a 2 GiB object never sits in the server's
memory. Every method takes the store's lock: one connection, shared by the server's threads.
The data directory holds the token secret and the keys: it is created 0700, its database 0600.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .rows import BucketRow, KeyRow, Result, bucket_row, key_row
from .store_files import FileTables

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, name TEXT NOT NULL,
    capabilities TEXT NOT NULL, bucket_id TEXT, name_prefix TEXT, bucket_ids TEXT,
    expires INTEGER);
CREATE TABLE IF NOT EXISTS buckets (
    bucket_id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
    info TEXT NOT NULL, cors TEXT NOT NULL, lifecycle TEXT NOT NULL, revision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    serial INTEGER PRIMARY KEY AUTOINCREMENT, file_id TEXT UNIQUE NOT NULL,
    bucket_id TEXT NOT NULL, name TEXT NOT NULL, action TEXT NOT NULL, size INTEGER NOT NULL,
    sha1 TEXT NOT NULL, content_type TEXT NOT NULL, info TEXT NOT NULL,
    upload_ts INTEGER NOT NULL, segments TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_name ON files (bucket_id, name, serial);
CREATE TABLE IF NOT EXISTS parts (
    file_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL,
    sha1 TEXT NOT NULL, upload_ts INTEGER NOT NULL, blob TEXT NOT NULL,
    PRIMARY KEY (file_id, part_number));
"""

# Columns added after the first release, for data directories made before them.
MIGRATIONS = (("keys", "bucket_ids", "TEXT"), ("keys", "expires", "INTEGER"))
KEY_COLUMNS = "key_id, secret, name, capabilities, bucket_id, name_prefix, bucket_ids, expires"


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (or make it so, if it exists)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


class Store(FileTables):
    """SQLite metadata and blob files, in ``data_dir`` or in memory plus a private temp dir."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="localb2-")
            root = Path(self._tempdir.name)
            database = ":memory:"
        else:
            root = Path(data_dir)
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            database = str(root / "metadata.sqlite3")
            _private_file(root / "metadata.sqlite3")  # SQLite gives -wal/-shm the same mode
        self.persistent = data_dir is not None
        self.blob_dir = root / "blobs"
        self.blob_dir.mkdir(mode=0o700, exist_ok=True)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        if self.persistent:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        for table, column, declaration in MIGRATIONS:
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        """Close the database and remove the temporary blob directory, if any."""
        with self.lock:
            self._db.close()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def _run(self, sql: str, *params: Any) -> Result:
        # Fetch under the lock too: one connection serves every thread, and a cursor read
        # after the lock is released would race with another thread's statement.
        with self.lock:
            cursor = self._db.execute(sql, params)
            return Result(cursor.fetchall(), cursor.lastrowid)

    # -- blobs ---------------------------------------------------------------------------
    def new_blob(self) -> tuple[str, Path]:
        """Return a fresh blob name and its path (the file does not exist yet)."""
        name = uuid.uuid4().hex
        return name, self.blob_dir / name

    def blob_path(self, blob: str) -> Path:
        """Return the path of the blob named ``blob``."""
        return self.blob_dir / blob

    def remove_blobs(self, blobs: list[str]) -> None:
        """Delete blob files that no row references any more."""
        for blob in blobs:
            (self.blob_dir / blob).unlink(missing_ok=True)

    # -- meta and keys -------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """Return a stored setting of the server (its secret, account id, ...)."""
        row = self._run("SELECT value FROM meta WHERE key = ?", key).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the server."""
        self._run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)

    def add_key(self, key: KeyRow) -> None:
        """Store an application key."""
        buckets = None if key.bucket_ids is None else json.dumps(list(key.bucket_ids))
        single = key.bucket_ids[0] if key.bucket_ids and len(key.bucket_ids) == 1 else None
        self._run(
            f"INSERT INTO keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            key.key_id,
            key.secret,
            key.name,
            json.dumps(list(key.capabilities)),
            single,
            key.name_prefix,
            buckets,
            key.expires,
        )

    def get_key(self, key_id: str) -> KeyRow | None:
        """Return the application key with this id, or ``None``."""
        row = self._run(f"SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?", key_id).fetchone()
        return None if row is None else key_row(row)

    def keys(self, start: str, limit: int, skip: str) -> list[KeyRow]:
        """Return up to ``limit`` keys by id from ``start``, leaving out the key ``skip``."""
        rows = self._run(
            f"SELECT {KEY_COLUMNS} FROM keys WHERE key_id >= ? AND key_id != ? "
            "ORDER BY key_id LIMIT ?",
            start,
            skip,
            limit,
        ).fetchall()
        return [key_row(row) for row in rows]

    def set_capabilities(self, key_id: str, capabilities: Iterable[str]) -> None:
        """Replace the capabilities of a key."""
        self._run(
            "UPDATE keys SET capabilities = ? WHERE key_id = ?",
            json.dumps(list(capabilities)),
            key_id,
        )

    def delete_key(self, key_id: str) -> None:
        """Delete an application key."""
        self._run("DELETE FROM keys WHERE key_id = ?", key_id)

    # -- buckets -------------------------------------------------------------------------
    def put_bucket(self, bucket: BucketRow) -> None:
        """Insert or replace a bucket."""
        self._run(
            "INSERT OR REPLACE INTO buckets VALUES (?, ?, ?, ?, ?, ?, ?)",
            bucket.bucket_id,
            bucket.name,
            bucket.type,
            json.dumps(bucket.info),
            json.dumps(bucket.cors),
            json.dumps(bucket.lifecycle),
            bucket.revision,
        )

    def buckets(self) -> list[BucketRow]:
        """Return every bucket, ordered by name."""
        rows = self._run("SELECT * FROM buckets ORDER BY name").fetchall()
        return [bucket_row(row) for row in rows]

    def bucket_by(
        self, *, bucket_id: str | None = None, name: str | None = None
    ) -> BucketRow | None:
        """Return the bucket with this id or name, or ``None``."""
        column, value = ("bucket_id", bucket_id) if bucket_id is not None else ("name", name)
        row = self._run(f"SELECT * FROM buckets WHERE {column} = ?", value).fetchone()
        return None if row is None else bucket_row(row)

    def delete_bucket(self, bucket_id: str) -> None:
        """Delete a bucket row."""
        self._run("DELETE FROM buckets WHERE bucket_id = ?", bucket_id)

    def bucket_has_files(self, bucket_id: str) -> bool:
        """Return whether any file version (or unfinished large file) is in the bucket."""
        row = self._run("SELECT 1 FROM files WHERE bucket_id = ? LIMIT 1", bucket_id).fetchone()
        return row is not None
