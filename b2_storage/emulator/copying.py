"""Server-side copy: the bytes of a file version (or a range of them) into a new blob, for
b2_copy_file (a new file) and b2_copy_part (a part of a large file).

The copy streams in 1 MiB chunks and computes the SHA1 of what it copied, so a range gets its
own checksum, as an upload would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from .errors import bad_request, not_found
from .rows import FileRow
from .store import Store
from .transfer import parse_range
from .upload import CHUNK

MAX_COPY_BYTES = 5_000_000_000  # B2: b2_copy_file and b2_copy_part copy at most 5 GB


def check_source(row: FileRow) -> FileRow:
    """Return ``row`` if it can be copied (an upload, not a hide marker or unfinished file)."""
    if row.action != "upload":
        raise bad_request(f"sourceFileId must name an uploaded file version, not a {row.action!r}")
    return row


def byte_range(row: FileRow, header: object) -> tuple[int, int]:
    """Return the inclusive range to copy: ``range`` (as in HTTP) or the whole file."""
    if header is not None and not isinstance(header, str):
        raise bad_request("range must be a string such as 'bytes=0-99'")
    found = parse_range(header, row.size)
    if found is None:
        return 0, row.size - 1
    return found


def copy_blob(store: Store, row: FileRow, first: int, last: int) -> tuple[str, int, str]:
    """Copy bytes ``first`` to ``last`` of ``row`` to a new blob; return ``(blob, size, sha1)``."""
    size = max(0, last - first + 1)
    if size > MAX_COPY_BYTES:
        # b2sdk parses this message to learn the size (CopySourceTooBig).
        raise bad_request(f"Copy source too big: {size}", "source_too_large")
    blob, path = store.new_blob()
    digest = hashlib.sha1()
    try:
        with open(path, "wb") as target:
            offset = 0
            for segment, length in row.segments:
                start, end = max(first, offset), min(last, offset + length - 1)
                for chunk in _read(store, segment, start - offset, end - start + 1):
                    digest.update(chunk)
                    target.write(chunk)
                offset += length
    except FileNotFoundError:  # the source was deleted while we copied it
        path.unlink(missing_ok=True)
        raise not_found(f"File not present: {row.file_id}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return blob, size, digest.hexdigest()


def _read(store: Store, segment: str, start: int, count: int) -> Iterator[bytes]:
    """Yield ``count`` bytes of a blob from ``start`` (nothing when ``count`` < 1)."""
    if count < 1:
        return
    with open(store.blob_path(segment), "rb") as source:
        source.seek(start)
        while count:
            chunk = source.read(min(CHUNK, count))
            if not chunk:
                raise FileNotFoundError(segment)  # truncated: treat as gone
            yield chunk
            count -= len(chunk)
