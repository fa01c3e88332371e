"""The file-version and part tables of the local B2 server's store (a mixin of :class:`.Store`).

Rows go in and out as :mod:`.rows` dataclasses; the store's lock guards the one connection.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .rows import FileRow, PartRow, Result, file_row

FILE_COLUMNS = (
    "serial, file_id, bucket_id, name, action, size, sha1, content_type, info, upload_ts, segments"
)


class FileTables:
    """Queries of the ``files`` and ``parts`` tables."""

    lock: threading.RLock
    _run: Callable[..., Result]  # the Store's: run one statement under its lock

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
