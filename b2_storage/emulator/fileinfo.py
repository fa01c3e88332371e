"""Custom file info and response-header values, with B2's rules.

A file's ``b2-*`` info and a download's ``b2*`` query overrides become response headers, so
every such value passes :func:`check_header_value` when it arrives: a CR or LF (response
splitting) or any other control character is refused with a 400, never stored or sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import bad_request

# The query overrides of a download (and of b2_get_download_authorization).
DOWNLOAD_OVERRIDES = (
    "b2ContentDisposition",
    "b2ContentLanguage",
    "b2Expires",
    "b2CacheControl",
    "b2ContentEncoding",
    "b2ContentType",
)
# The file info names that B2 turns into response headers, and the query override of each.
HEADER_INFO = {
    "b2-content-disposition": ("Content-Disposition", "b2ContentDisposition"),
    "b2-content-language": ("Content-Language", "b2ContentLanguage"),
    "b2-expires": ("Expires", "b2Expires"),
    "b2-cache-control": ("Cache-Control", "b2CacheControl"),
    "b2-content-encoding": ("Content-Encoding", "b2ContentEncoding"),
}
# B2: up to 50 bytes of letters, digits and - _ . ` ~ ! # $ % ^ & * ' | +, stored lowercase.
INFO_NAME = re.compile(r"^[A-Za-z0-9\-_.`~!#$%^&*'|+]{1,50}$")
MAX_INFO_ENTRIES = 10
MAX_INFO_BYTES = 7000


def header_safe(text: str) -> bool:
    """Return whether ``text`` may go into a response header: printable ASCII, no CR or LF."""
    return text.isascii() and text.isprintable()


def check_header_value(field: str, value: str) -> str:
    """Return ``value`` if it may be sent as a response header, else raise B2's 400."""
    if not header_safe(value):
        raise bad_request(
            f"{field} must be printable ASCII, without control characters such as CR or LF"
        )
    return value


def _check_b2_info(name: str, value: str) -> None:
    if name not in HEADER_INFO:
        raise bad_request(f"File info names starting 'b2-' are reserved; {name!r} is not one")
    check_header_value(f"File info {name}", value)
    if name == "b2-expires":
        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise bad_request("File info b2-expires must be an HTTP date") from None


def check_info(info: Mapping[str, Any]) -> dict[str, str]:
    """Return custom file info as B2 stores it (names lowercased), or raise B2's 400.

    At most 10 entries; names of up to 50 allowed characters; ``b2-*`` names only from B2's list,
    with values that are valid response headers; a size limit on the whole.
    """
    if len(info) > MAX_INFO_ENTRIES:
        raise bad_request(f"At most {MAX_INFO_ENTRIES} file info entries are allowed")
    checked: dict[str, str] = {}
    for raw_name, value in info.items():
        if not isinstance(value, str):
            raise bad_request(f"File info {raw_name!r} must have a string value")
        if not INFO_NAME.match(raw_name):
            raise bad_request(f"Invalid file info name {raw_name!r}")
        name = raw_name.lower()
        if name.startswith("b2-"):
            _check_b2_info(name, value)
        checked[name] = value
    if sum(len(k) + len(v.encode()) for k, v in checked.items()) > MAX_INFO_BYTES:
        raise bad_request("File info headers are larger than B2 allows")
    return checked


def check_overrides(query: Mapping[str, str]) -> dict[str, str]:
    """Return a download's ``b2*`` response-header overrides, each checked."""
    return {
        field: check_header_value(field, value)
        for field, value in query.items()
        if field in DOWNLOAD_OVERRIDES
    }
