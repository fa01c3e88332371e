"""``FileMeta``: what the storage knows of a file version, converted from b2sdk's objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class FileMeta:
    """What the storage needs to know of a file's newest version."""

    file_id: str
    size: int
    uploaded_at: datetime
    content_type: str
    action: str = "upload"


def _millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def file_meta(version: Any) -> FileMeta:
    return FileMeta(
        version.id_,
        int(version.size),
        _millis(version.upload_timestamp),
        version.content_type or "application/octet-stream",
        getattr(version, "action", None) or "upload",
    )
