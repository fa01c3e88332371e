"""What an upload brings to the local B2 server: a file name and content type to check, and a
body to stream into a blob while its SHA1 is checked as B2 does.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from typing import BinaryIO, Protocol

from ..names import b2_name_problem
from .errors import bad_request
from .fileinfo import check_header_value

CHUNK = 1024 * 1024
HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")


class Readable(Protocol):
    """Anything with ``read(n)``: a socket file, a file, a BytesIO."""

    def read(self, size: int, /) -> bytes: ...


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
