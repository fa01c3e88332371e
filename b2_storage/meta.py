"""``FileMeta``: what the storage knows of a file version, converted from b2sdk's objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class FileMeta:
    """What the storage needs to know of a file's newest version.

    ``sha1`` is the SHA1 of the whole file as B2 stored it: the version's content SHA1, or for a
    large file (whose content SHA1 is ``"none"``) the ``large_file_sha1`` of its file info;
    ``None`` when B2 knows neither (a large file uploaded from a stream of unknown size).
    """

    file_id: str
    size: int
    uploaded_at: datetime
    content_type: str
    action: str = "upload"
    sha1: str | None = None


def _millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def stored_sha1(version: Any) -> str | None:
    """Return the whole-file SHA1 B2 keeps for ``version``, or ``None`` when it keeps none."""
    # b2sdk strips B2's "unverified:" prefix (a SHA1 sent after the body): still B2's record.
    content = getattr(version, "content_sha1", None)
    if content and content != "none":
        return str(content)
    large = (getattr(version, "file_info", None) or {}).get("large_file_sha1")
    return str(large) if large else None


def file_meta(version: Any) -> FileMeta:
    return FileMeta(
        version.id_,
        int(version.size),
        _millis(version.upload_timestamp),
        version.content_type or "application/octet-stream",
        getattr(version, "action", None) or "upload",
        stored_sha1(version),
    )
