"""Where the local B2 server keeps its state: SQLite metadata beside a directory of blob files.

One class, :class:`Store`, owns both. Metadata lives in SQLite (a file in the data directory, or
an in-memory database), blobs are plain files, so a 2 GiB object never sits in the server's
memory. Every method takes the store's lock: one connection, shared by the server's threads.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from .rows import BucketRow, FileRow, PartRow, Result, bucket_row, file_row

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, name TEXT NOT NULL,
    capabilities TEXT NOT NULL, bucket_id TEXT, name_prefix TEXT);
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

FILE_COLUMNS = (
    "serial, file_id, bucket_id, name, action, size, sha1, content_type, info, upload_ts, segments"
)


class Store:
    """SQLite metadata and blob files, in ``data_dir`` or in memory plus a private temp dir."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="localb2-")
            root = Path(self._tempdir.name)
            database = ":memory:"
        else:
            root = Path(data_dir)
            root.mkdir(parents=True, exist_ok=True)
            database = str(root / "metadata.sqlite3")
        self.persistent = data_dir is not None
        self.blob_dir = root / "blobs"
        self.blob_dir.mkdir(exist_ok=True)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        if self.persistent:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

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

    def add_key(
        self,
        key_id: str,
        secret: str,
        name: str,
        capabilities: list[str],
        bucket_id: str | None,
        name_prefix: str | None,
    ) -> None:
        """Store an application key."""
        self._run(
            "INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?)",
            key_id,
            secret,
            name,
            json.dumps(capabilities),
            bucket_id,
            name_prefix,
        )

    def get_key(self, key_id: str) -> tuple[str, str, list[str], str | None, str | None] | None:
        """Return ``(secret, name, capabilities, bucket_id, name_prefix)`` of a key."""
        row = self._run(
            "SELECT secret, name, capabilities, bucket_id, name_prefix FROM keys WHERE key_id = ?",
            key_id,
        ).fetchone()
        if row is None:
            return None
        return row[0], row[1], json.loads(row[2]), row[3], row[4]

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

    # -- files ---------------------------------------------------------------------------
    def insert_file(self, row: FileRow) -> FileRow:
        """Insert a file version; return it with its serial (its place in upload order)."""
        cursor = self._run(
            f"INSERT INTO files ({FILE_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row.file_id,
            row.bucket_id,
            row.name,
            row.action,
            row.size,
            row.sha1,
            row.content_type,
            json.dumps(row.info),
            row.upload_ts,
            json.dumps(row.segments),
        )
        return replace(row, serial=int(cursor.lastrowid or 0))

    def finish_file(
        self, file_id: str, size: int, sha1: str, segments: list[tuple[str, int]]
    ) -> None:
        """Turn a started large file into an upload."""
        self._run(
            "UPDATE files SET action = 'upload', size = ?, sha1 = ?, segments = ? "
            "WHERE file_id = ?",
            size,
            sha1,
            json.dumps(segments),
            file_id,
        )

    def file_by_id(self, file_id: str) -> FileRow | None:
        """Return the file version with this id, or ``None``."""
        row = self._run(f"SELECT {FILE_COLUMNS} FROM files WHERE file_id = ?", file_id).fetchone()
        return None if row is None else file_row(row)

    def delete_file(self, file_id: str) -> None:
        """Delete one file version row."""
        self._run("DELETE FROM files WHERE file_id = ?", file_id)

    def latest_version(self, bucket_id: str, name: str) -> FileRow | None:
        """Return the newest upload or hide marker of ``name`` (started large files skipped)."""
        row = self._run(
            f"SELECT {FILE_COLUMNS} FROM files WHERE bucket_id = ? AND name = ? "
            "AND action != 'start' ORDER BY serial DESC LIMIT 1",
            bucket_id,
            name,
        ).fetchone()
        return None if row is None else file_row(row)

    def versions_from(self, bucket_id: str, start_name: str, batch: int = 500) -> Iterator[FileRow]:
        """Yield versions with names >= ``start_name``, by name (UTF-8 bytes), newest first."""
        cursor_name, cursor_serial = start_name, None
        while True:
            if cursor_serial is None:
                sql = "name >= ?"
                params: tuple[Any, ...] = (cursor_name,)
            else:
                sql = "(name > ? OR (name = ? AND serial < ?))"
                params = (cursor_name, cursor_name, cursor_serial)
            rows = self._run(
                f"SELECT {FILE_COLUMNS} FROM files WHERE bucket_id = ? AND {sql} "
                "ORDER BY name, serial DESC LIMIT ?",
                bucket_id,
                *params,
                batch,
            ).fetchall()
            for row in rows:
                yield file_row(row)
            if len(rows) < batch:
                return
            cursor_name, cursor_serial = rows[-1][3], rows[-1][0]

    def unfinished(self, bucket_id: str, start_file_id: str | None, limit: int) -> list[FileRow]:
        """Return started large files of a bucket in start order, from ``start_file_id``."""
        start = 0
        if start_file_id is not None:
            first = self.file_by_id(start_file_id)
            start = first.serial if first is not None else 0
        rows = self._run(
            f"SELECT {FILE_COLUMNS} FROM files WHERE bucket_id = ? AND action = 'start' "
            "AND serial >= ? ORDER BY serial LIMIT ?",
            bucket_id,
            start,
            limit,
        ).fetchall()
        return [file_row(row) for row in rows]

    # -- parts ---------------------------------------------------------------------------
    def put_part(self, file_id: str, part: PartRow) -> str | None:
        """Store a part; return the blob of the part it replaces, if any."""
        with self.lock:
            old = self._run(
                "SELECT blob FROM parts WHERE file_id = ? AND part_number = ?",
                file_id,
                part.part_number,
            ).fetchone()
            self._run(
                "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?)",
                file_id,
                part.part_number,
                part.size,
                part.sha1,
                part.upload_ts,
                part.blob,
            )
        return None if old is None else str(old[0])

    def parts(self, file_id: str, start: int = 1, limit: int = 10000) -> list[PartRow]:
        """Return the parts of a large file by part number, from ``start``."""
        rows = self._run(
            "SELECT part_number, size, sha1, upload_ts, blob FROM parts "
            "WHERE file_id = ? AND part_number >= ? ORDER BY part_number LIMIT ?",
            file_id,
            start,
            limit,
        ).fetchall()
        return [PartRow(*row) for row in rows]

    def delete_parts(self, file_id: str) -> None:
        """Forget the part rows of a large file (their blobs are handled by the caller)."""
        self._run("DELETE FROM parts WHERE file_id = ?", file_id)
