"""Large files of the local B2 server (a mixin of :class:`.files.FileEngine`): starting one,
its parts, finishing and cancelling it, and the listings of unfinished files and of parts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .engine import Engine, now_ms
from .errors import bad_request
from .fileinfo import check_info
from .rows import FileRow, PartRow
from .store import Store
from .upload import check_name, content_type_for

MAX_PARTS = 10000


class LargeFiles:
    """Large files and their parts, over the engine's store."""

    engine: Engine
    store: Store

    if TYPE_CHECKING:  # provided by the FileEngine this class is mixed into

        def new_file_id(self, bucket_id: str) -> str: ...
        def delete_version(self, name: str, file_id: str) -> FileRow: ...

    def start_large(
        self, bucket_id: str, name: str, content_type: str, info: dict[str, str]
    ) -> FileRow:
        """Start a large file; its parts come with :meth:`add_part`."""
        content_type = content_type_for(content_type, check_name(name))
        row = FileRow(
            0,
            self.new_file_id(bucket_id),
            bucket_id,
            name,
            "start",
            0,
            "none",
            content_type,
            check_info(info),
            now_ms(),
            [],
        )
        return self.store.insert_file(row)

    def unfinished(self, file_id: str) -> FileRow:
        """Return a started large file, or raise B2's 400."""
        row = self.store.file_by_id(file_id)
        if row is None or row.action != "start":
            raise bad_request(f"No active upload for: {file_id}")
        return row

    def list_unfinished(
        self, bucket_id: str, start_file_id: str | None, limit: int
    ) -> list[FileRow]:
        """Return up to ``limit`` started large files of a bucket, from ``start_file_id`` on."""
        return self.store.unfinished(bucket_id, start_file_id, limit)

    def list_parts(self, file_id: str, start: int, limit: int) -> list[PartRow]:
        """Return up to ``limit`` parts of a large file, from part number ``start`` on."""
        return self.store.parts(file_id, start, limit)

    def add_part(self, file_id: str, part_number: int, blob: tuple[str, int, str]) -> PartRow:
        """Record an uploaded part (replacing an earlier upload of the same number)."""
        if not 1 <= part_number <= MAX_PARTS:
            self.store.remove_blobs([blob[0]])
            raise bad_request(f"Part number must be 1 to {MAX_PARTS}, not {part_number}")
        part = PartRow(part_number, blob[1], blob[2], now_ms(), blob[0])
        with self.store.lock:
            self.unfinished(file_id)
            replaced = self.store.put_part(file_id, part)
        if replaced is not None:
            self.store.remove_blobs([replaced])
        return part

    def finish_large(self, file_id: str, part_sha1s: list[str]) -> FileRow:
        """Check the parts against ``part_sha1s`` and make the large file visible."""
        minimum = self.engine.settings.min_part_size
        with self.store.lock:
            row = self.unfinished(file_id)
            parts = self.store.parts(file_id)
            if [p.part_number for p in parts] != list(range(1, len(part_sha1s) + 1)):
                raise bad_request("Part numbers must run from 1 without gaps, one per SHA1 given")
            for part, sha1 in zip(parts, part_sha1s, strict=True):
                if part.sha1 != sha1.lower() and part.sha1 != f"unverified:{sha1.lower()}":
                    raise bad_request(f"Part {part.part_number}'s SHA1 does not match")
                if part.part_number < len(parts) and part.size < minimum:
                    raise bad_request(f"Part {part.part_number} is smaller than {minimum} bytes")
            size = sum(p.size for p in parts)
            sha1 = "none"  # B2 keeps no whole-file SHA1 of a large file (see large_file_sha1)
            segments = [(p.blob, p.size) for p in parts]
            self.store.finish_file(file_id, size, sha1, segments)
            self.store.delete_parts(file_id)
        return replace(row, action="upload", size=size, sha1=sha1, segments=segments)

    def cancel_large(self, file_id: str) -> FileRow:
        """Cancel a large file and drop its parts."""
        row = self.unfinished(file_id)
        return self.delete_version(row.name, file_id)
