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
class KeyRow:
    """One application key, secret included (never sent after b2_create_key)."""

    key_id: str
    secret: str
    name: str
    capabilities: tuple[str, ...]
    bucket_ids: tuple[str, ...] | None
    name_prefix: str | None
    expires: int | None  # epoch milliseconds, or None: never


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


def key_row(row: tuple[Any, ...]) -> KeyRow:
    # bucket_ids (a JSON list) came with multi-bucket keys; older rows hold one bucket_id.
    key_id, secret, name, capabilities, bucket_id, name_prefix, bucket_ids, expires = row
    buckets = json.loads(bucket_ids) if bucket_ids else ([bucket_id] if bucket_id else None)
    return KeyRow(
        key_id,
        secret,
        name,
        tuple(json.loads(capabilities)),
        None if buckets is None else tuple(buckets),
        name_prefix,
        expires,
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
