"""The rows of the local B2 server's state: file versions, parts and buckets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FileRow:
    """One file version: an upload, a hide marker, or a started large file."""

    serial: int
    file_id: str
    bucket_id: str
    name: str
    action: str  # "upload", "hide" or "start"
    size: int
    sha1: str
    content_type: str
    info: dict[str, str]
    upload_ts: int
    segments: list[tuple[str, int]] = field(default_factory=list)  # (blob, size) in order


@dataclass(frozen=True)
class PartRow:
    """One uploaded part of a large file."""

    part_number: int
    size: int
    sha1: str
    upload_ts: int
    blob: str


@dataclass(frozen=True)
class BucketRow:
    """One bucket."""

    bucket_id: str
    name: str
    type: str
    info: dict[str, str]
    cors: list[Any]
    lifecycle: list[Any]
    revision: int


def file_row(row: tuple[Any, ...]) -> FileRow:
    segments = [(blob, size) for blob, size in json.loads(row[10])]
    serial, file_id, bucket_id, name, action, size, sha1, content_type = row[:8]
    info = json.loads(row[8])
    return FileRow(
        serial, file_id, bucket_id, name, action, size, sha1, content_type, info, row[9], segments
    )


def bucket_row(row: tuple[Any, ...]) -> BucketRow:
    return BucketRow(
        row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), json.loads(row[5]), row[6]
    )


@dataclass(frozen=True)
class Result:
    """The rows of one statement, fetched while the store's lock was held."""

    rows: list[Any]
    lastrowid: int | None

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows
