"""Files of the local B2 server: uploads (streamed to blobs, SHA1-checked), versions, hide
markers, and listing with prefix, delimiter and start name. Large files and their parts are
:mod:`.large`'s half; what an upload's name, type and body must be is :mod:`.upload`'s.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .copying import copy_blob
from .engine import Engine, now_ms
from .errors import bad_request, not_found
from .large import LargeFiles
from .rows import FileRow
from .upload import Readable, check_name, receive


@dataclass(frozen=True)
class Folder:
    """A "folder" entry of a listing with a delimiter."""

    name: str


class FileEngine(LargeFiles):
    """File operations on top of an :class:`Engine`'s store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    def new_file_id(self, bucket_id: str) -> str:
        """Return a file id unique across every bucket of the server."""
        return f"4_z{bucket_id}_f{secrets.token_hex(10)}_d{now_ms()}_m0_c000_v0001000_t0001"

    def write_blob(self, stream: Readable, length: int, sha1_header: str) -> tuple[str, int, str]:
        """Stream an upload body into a new blob; return ``(blob, size, sha1)``."""
        blob, path = self.store.new_blob()
        try:
            with open(path, "wb") as target:
                size, sha1 = receive(stream, length, sha1_header, target)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return blob, size, sha1

    def add_upload(
        self,
        bucket_id: str,
        name: str,
        content_type: str,
        info: dict[str, str],
        blob: tuple[str, int, str],
        timestamp: int | None = None,
    ) -> FileRow:
        """Record a finished small upload as the newest version of ``name``."""
        blob_name, size, sha1 = blob
        row = FileRow(
            0,
            self.new_file_id(bucket_id),
            bucket_id,
            name,
            "upload",
            size,
            sha1,
            content_type,
            info,
            now_ms() if timestamp is None else timestamp,
            [(blob_name, size)],
        )
        return self.store.insert_file(row)

    def hide(self, bucket_id: str, name: str) -> FileRow:
        """Hide ``name``: add a hide marker as its newest version."""
        latest = self.store.latest_version(bucket_id, check_name(name))
        if latest is None:
            raise bad_request(f"File not present: {name}", "no_such_file")
        if latest.action == "hide":
            return latest
        row = FileRow(
            0, self.new_file_id(bucket_id), bucket_id, name, "hide", 0, "none", "", {}, now_ms(), []
        )
        return self.store.insert_file(row)

    def version(self, file_id: str) -> FileRow:
        """Return one file version by id, or raise B2's 404 ``not_found``."""
        row = self.store.file_by_id(file_id)
        if row is None:
            raise not_found(f"File not present: {file_id}")
        return row

    def find_version(self, file_id: str) -> FileRow | None:
        """Return one file version by id, or ``None``."""
        return self.store.file_by_id(file_id)

    def delete_version(self, name: str, file_id: str) -> FileRow:
        """Delete one version (or an unfinished large file with its parts)."""
        with self.store.lock:
            row = self.store.file_by_id(file_id)
            if row is None or row.name != name:
                raise bad_request(f"File not present: {name} {file_id}", "file_not_present")
            self.store.delete_file(file_id)
            parts = self.store.parts(file_id)
            self.store.delete_parts(file_id)
        self.store.remove_blobs([blob for blob, _ in row.segments] + [p.blob for p in parts])
        return row

    def latest(self, bucket_id: str, name: str) -> FileRow:
        """Return the visible newest version of ``name``, or raise B2's 404."""
        row = self.store.latest_version(bucket_id, name)
        if row is None or row.action != "upload":
            raise not_found(f"File with such name does not exist: {name}")
        return row

    # -- blobs ---------------------------------------------------------------------------
    def blob_path(self, blob: str) -> Path:
        """Return the path of a blob's bytes."""
        return self.store.blob_path(blob)

    def discard_blob(self, blob: str) -> None:
        """Remove a blob that no file version or part uses (an upload refused after it)."""
        self.store.remove_blobs([blob])

    def copy_blob(self, row: FileRow, first: int, last: int) -> tuple[str, int, str]:
        """Copy bytes ``first`` to ``last`` of ``row`` to a new blob (server-side copy)."""
        return copy_blob(self.store, row, first, last)

    # -- listing -------------------------------------------------------------------------
    def list_names(
        self, bucket_id: str, start: str, limit: int, prefix: str, delimiter: str | None
    ) -> tuple[list[FileRow | Folder], str | None]:
        """Return up to ``limit`` visible files (and folders), and the next start name."""
        entries: list[FileRow | Folder] = []
        seen: str | None = None
        for entry in self._entries(
            bucket_id, max(start, prefix), prefix, delimiter, versions=False
        ):
            name = entry.name
            if name == seen:
                continue
            if isinstance(entry, FileRow) and entry.action == "start":
                continue
            seen = name
            if isinstance(entry, FileRow) and entry.action == "hide":
                continue
            if len(entries) == limit:
                return entries, name
            entries.append(entry)
        return entries, None

    def list_versions(
        self,
        bucket_id: str,
        start: str,
        start_file_id: str | None,
        limit: int,
        prefix: str,
        delimiter: str | None,
    ) -> tuple[list[FileRow | Folder], tuple[str, str | None] | None]:
        """Return up to ``limit`` versions (newest first per name) and the next (name, id)."""
        skip_before: int | None = None
        if start_file_id is not None:
            first = self.store.file_by_id(start_file_id)
            skip_before = None if first is None else first.serial
        entries: list[FileRow | Folder] = []
        for entry in self._entries(bucket_id, max(start, prefix), prefix, delimiter, versions=True):
            if (
                skip_before is not None
                and isinstance(entry, FileRow)
                and entry.name == start
                and entry.serial > skip_before
            ):
                continue
            if len(entries) == limit:
                file_id = entry.file_id if isinstance(entry, FileRow) else None
                return entries, (entry.name, file_id)
            entries.append(entry)
        return entries, None

    def _entries(
        self, bucket_id: str, start: str, prefix: str, delimiter: str | None, *, versions: bool
    ) -> Iterator[FileRow | Folder]:
        folder: str | None = None
        for row in self.store.versions_from(bucket_id, start):
            if not row.name.startswith(prefix):
                return
            if delimiter:
                cut = row.name.find(delimiter, len(prefix))
                if cut >= 0:
                    name = row.name[: cut + len(delimiter)]
                    if name != folder and (versions or row.action == "upload"):
                        folder = name
                        yield Folder(name)
                    continue
            yield row
