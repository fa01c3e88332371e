"""Files of the local B2 server: uploads (streamed to blobs, SHA1-checked), versions, hide
markers, large files and their parts, and listing with prefix, delimiter and start name.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO, Protocol

from ..names import b2_name_problem
from .engine import Engine, now_ms
from .errors import bad_request, not_found
from .fileinfo import check_header_value, check_info
from .rows import FileRow, PartRow

CHUNK = 1024 * 1024
HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")
MAX_PARTS = 10000


class Readable(Protocol):
    """Anything with ``read(n)``: a socket file, a file, a BytesIO."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class Folder:
    """A "folder" entry of a listing with a delimiter."""

    name: str


def check_name(name: str) -> str:
    """Return ``name`` if B2 accepts it as a file name, else raise B2's 400."""
    problem = b2_name_problem(name)
    if problem is not None:
        raise bad_request(f"Bad file name: {problem}")
    return name


def content_type_for(content_type: str | None, name: str) -> str:
    """Return the content type to store: ``b2/x-auto`` (or none) is guessed from the name."""
    if not content_type or content_type == "b2/x-auto":
        return mimetypes.guess_type(name)[0] or "application/octet-stream"
    return check_header_value("contentType", content_type)  # sent back as Content-Type


def receive(stream: Readable, length: int, sha1_header: str, target: BinaryIO) -> tuple[int, str]:
    """Copy an upload body of ``length`` bytes into ``target``, checking its SHA1 as B2 does.

    ``sha1_header`` is 40 hex digits, ``do_not_verify``, or ``hex_digits_at_end`` (the body ends
    with the 40 hex digits of the content's SHA1). Return ``(size, sha1)``; the SHA1 is stored as
    ``unverified:<hex>`` when the client asked B2 not to verify.
    """
    at_end = sha1_header == "hex_digits_at_end"
    if not (at_end or sha1_header == "do_not_verify" or HEX40.match(sha1_header)):
        raise bad_request(
            "X-Bz-Content-Sha1 must be 40 hex digits, do_not_verify or hex_digits_at_end"
        )
    size = length - 40 if at_end else length
    if size < 0:
        raise bad_request("The body is shorter than the SHA1 digits it should end with")
    digest = hashlib.sha1()
    remaining = size
    while remaining:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            raise bad_request("The body ended before Content-Length bytes arrived")
        digest.update(chunk)
        target.write(chunk)
        remaining -= len(chunk)
    actual = digest.hexdigest()
    if at_end:
        sha1_header = stream.read(40).decode("ascii", "replace")
    if sha1_header == "do_not_verify":
        return size, f"unverified:{actual}"
    if sha1_header.lower() != actual:
        raise bad_request("Checksum did not match data received")
    return size, actual


class FileEngine:
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

    # -- large files ---------------------------------------------------------------------
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
