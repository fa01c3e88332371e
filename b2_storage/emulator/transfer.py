"""The byte-carrying half of the B2 API: upload headers, download authorization, Range and the
response headers of a download. Pure functions over the engine; :mod:`.server` does the I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import quote, unquote_plus

from .engine import Engine, now_ms
from .errors import B2Error, bad_request, unauthorized
from .fileinfo import HEADER_INFO, check_info, check_overrides, header_safe
from .rows import FileRow
from .upload import check_name, content_type_for

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
INFO_HEADER = "x-bz-info-"


@dataclass(frozen=True)
class Upload:
    """What the headers of b2_upload_file / b2_upload_part say about the body."""

    name: str
    content_type: str
    info: dict[str, str]
    sha1: str
    length: int
    timestamp: int | None = None  # X-Bz-Custom-Upload-Timestamp, epoch milliseconds


def _length(headers: Message[str, str]) -> int:
    value = headers.get("Content-Length")
    if value is None or not value.isdigit():
        raise B2Error(411, "bad_request", "Content-Length is required")
    return int(value)


def parse_upload(headers: Message[str, str], *, part: bool) -> Upload:
    """Read and check the headers of an upload (a whole file, or one part of a large file)."""
    length = _length(headers)
    sha1 = headers.get("X-Bz-Content-Sha1")
    if not sha1:
        raise bad_request("Missing header: X-Bz-Content-Sha1")
    if part:
        return Upload("", "", {}, sha1, length)
    raw_name = headers.get("X-Bz-File-Name")
    if raw_name is None:
        raise bad_request("Missing header: X-Bz-File-Name")
    try:
        name = check_name(unquote_plus(raw_name, errors="strict"))
    except UnicodeDecodeError:
        raise bad_request("X-Bz-File-Name is not percent-encoded UTF-8") from None
    content_type = content_type_for(headers.get("Content-Type"), name)
    info = {
        key[len(INFO_HEADER) :]: unquote_plus(value)
        for key, value in headers.items()
        if key.lower().startswith(INFO_HEADER)
    }
    custom = headers.get("X-Bz-Custom-Upload-Timestamp")
    if custom is not None and not custom.isdigit():
        raise bad_request("X-Bz-Custom-Upload-Timestamp must be epoch milliseconds")
    timestamp = None if custom is None else int(custom)
    return Upload(name, content_type, check_info(info), sha1, length, timestamp)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the inclusive ``(first, last)`` byte range asked for, ``None`` for the whole file.

    Raise B2's 416 when the range cannot be satisfied.
    """
    if not header:
        return None
    match = RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        raise bad_request(f"Invalid Range header: {header}")
    first_text, last_text = match.groups()
    if first_text == "":  # a suffix: the last N bytes
        count = int(last_text)
        if count == 0 or size == 0:
            raise range_not_satisfiable(size)
        return max(0, size - count), size - 1
    first = int(first_text)
    last = size - 1 if last_text == "" else min(int(last_text), size - 1)
    if first >= size or first > last:
        raise range_not_satisfiable(size)
    return first, last


def range_not_satisfiable(size: int) -> B2Error:
    """Return B2's 416 for a range outside a file of ``size`` bytes."""
    return B2Error(
        416,
        "range_not_satisfiable",
        f"The range is not satisfiable (size {size})",
        headers={"Content-Range": f"bytes */{size}"},
    )


def authorize_download(
    engine: Engine,
    row_bucket_id: str,
    bucket_type: str,
    name: str,
    token: str | None,
    query: Mapping[str, str],
) -> dict[str, str]:
    """Check a download's authorization; return the header overrides it may use.

    A public bucket needs no token, unless the query overrides response headers: B2 takes
    ``b2*`` overrides only with a token. A private one needs an account token with ``readFiles``
    or a download token for this bucket whose prefix starts ``name`` and which has not expired;
    the overrides pinned in a download token must be repeated exactly in the query.
    """
    overrides = check_overrides(query)
    if bucket_type == "allPublic" and not token and not overrides:
        return overrides
    payload = engine.tokens.read("dnld", token or "")
    if payload is None:
        if not token:
            if bucket_type == "allPublic":
                raise unauthorized("Response-header overrides (b2*) need an authorization token")
            raise unauthorized("Authorization is required to download from a private bucket")
        key = engine.check_account_token(token)
        key.require("readFiles", row_bucket_id)
        key.require_prefix(name)
        return overrides
    if payload["e"] <= now_ms():
        raise unauthorized("The download authorization token has expired", "expired_auth_token")
    if payload["b"] != row_bucket_id or not name.startswith(payload["p"]):
        raise unauthorized("The download authorization token does not cover this file")
    for field, value in payload["o"].items():
        if overrides.get(field) != value:
            raise unauthorized(f"{field} must be the same as in the download authorization")
    return overrides


def download_headers(
    row: FileRow, overrides: Mapping[str, str], content_range: tuple[int, int] | None
) -> list[tuple[str, str]]:
    """Return the headers of a download of ``row`` (the whole file or ``content_range``)."""
    first, last = content_range if content_range is not None else (0, row.size - 1)
    headers = [
        ("Content-Length", str(max(0, last - first + 1))),
        ("Content-Type", overrides.get("b2ContentType") or row.content_type),
        ("Accept-Ranges", "bytes"),
        ("x-bz-file-id", row.file_id),
        ("x-bz-file-name", quote(row.name, safe="/")),
        ("x-bz-content-sha1", row.sha1),
        ("x-bz-upload-timestamp", str(row.upload_ts)),
    ]
    if content_range is not None:
        headers.append(("Content-Range", f"bytes {first}-{last}/{row.size}"))
    for key, value in row.info.items():
        if key in HEADER_INFO:
            continue
        headers.append((f"x-bz-info-{key}", quote(value, safe="")))
    for key, (header, override) in HEADER_INFO.items():
        pinned = overrides.get(override) or row.info.get(key)
        if pinned:
            headers.append((header, pinned))
    # Values are checked when they arrive; a data directory written by an older version may
    # hold unchecked ones, which are left out rather than sent.
    return [(name, value) for name, value in headers if header_safe(name) and header_safe(value)]
