"""B2's rules for file names, as pure functions (no I/O).

B2 accepts a file name when it is at most 1024 bytes of UTF-8, holds no character below 32, no
DEL and no backslash, does not start or end with ``/``, holds no ``//``, and no segment between
slashes is longer than 250 bytes. (The storage adds Django's own rule on top: no ``.`` or ``..``
segment, so a name never climbs out of its ``location``.)
"""

from __future__ import annotations

MAX_NAME_BYTES = 1024
MAX_SEGMENT_BYTES = 250


def b2_name_problem(name: str) -> str | None:
    """Return why B2 refuses ``name``, or ``None`` when B2 accepts it."""
    if not name:
        return "a file name must not be empty"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "a file name must be valid UTF-8"
    if len(encoded) > MAX_NAME_BYTES:
        return f"a file name must be at most {MAX_NAME_BYTES} bytes of UTF-8, not {len(encoded)}"
    for char in name:
        if ord(char) < 32 or char == "\x7f":
            return f"a file name must not contain the control character {char!r}"
    if "\\" in name:
        return "a file name must not contain a backslash"
    if name.startswith("/"):
        return "a file name must not start with '/'"
    if name.endswith("/"):
        return "a file name must not end with '/'"
    if "//" in name:
        return "a file name must not contain '//'"
    for segment in name.split("/"):
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"each part of a name between slashes must be at most {MAX_SEGMENT_BYTES} bytes"
    return None
