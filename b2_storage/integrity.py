"""What a read can check against what B2 stored: the whole file's SHA1, and its version.

B2 keeps one SHA1 per file version (``contentSha1``; for a large file, ``large_file_sha1`` in its
file info when the uploader set it) and no checksum of a part or a byte range. So the only bytes a
reader can check are a whole file read in order from its first byte: :class:`WholeFileCheck`
hashes what a reader returns and compares the digest before it returns the bytes that reach the
end of the file. A read that starts elsewhere (after a seek) can only be checked to come from the
version ``open()`` found (``x-bz-file-id``), not byte by byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .exceptions import B2IntegrityError

FILE_ID_HEADER = "x-bz-file-id"


def _sha1() -> Any:
    return hashlib.sha1(usedforsecurity=False)  # an integrity check, not a security one


class WholeFileCheck:
    """The SHA1 of the bytes a reader has returned, in order from byte 0, checked at the end.

    ``expected`` is the SHA1 B2 stored (``None``: unknown, nothing is checked). A reader calls
    :meth:`moved` when a seek changes its position and :meth:`served` with every run of bytes
    before returning it; :meth:`served` raises :class:`B2IntegrityError` instead of letting the
    bytes that complete the file through when the digest differs.
    """

    def __init__(self, name: str, size: int, expected: str | None) -> None:
        self.name = name
        self.size = size
        self.expected = expected.lower() if expected else None
        self._digest: Any = _sha1() if self.expected else None

    @property
    def active(self) -> bool:
        """Return whether the bytes returned so far make a prefix of the file being checked."""
        return self._digest is not None

    def moved(self, position: int) -> None:
        """Follow a seek: back at byte 0 a new check starts; anywhere else none is possible."""
        self._digest = _sha1() if position == 0 and self.expected else None

    def served(self, data: bytes, end: int) -> None:
        """Add ``data`` (which ends at byte ``end``); at the end of the file, compare first."""
        if self._digest is None:
            return
        if end < self.size:
            self._digest.update(data)
            return
        final = self._digest.copy()  # on a mismatch the check still covers [0, end - len(data))
        final.update(data)
        got = final.hexdigest()
        if got != self.expected:
            raise B2IntegrityError(
                self.name,
                f"its bytes differ from what B2 stored (SHA1 {got}, B2 stored {self.expected}); "
                "the read that reached the end of the file raised instead of returning them",
            )
        self._digest = None  # checked: a seek back to byte 0 starts over


def check_version(name: str, file_id: str | None, response: Any) -> None:
    """Raise unless a download ``response`` serves the version ``open()`` found (``file_id``)."""
    headers: Mapping[str, str] = getattr(response, "headers", None) or {}
    served = headers.get(FILE_ID_HEADER)
    if file_id and served and served != file_id:
        raise B2IntegrityError(
            name,
            f"it was replaced in B2 while it was being read (version {file_id} opened, "
            f"{served} served); open it again",
        )


def incomplete(name: str, got: int, size: int, cause: str = "") -> B2IntegrityError:
    """Return the error for a download that ended after ``got`` of ``size`` bytes."""
    because = f" ({cause})" if cause else ""
    return B2IntegrityError(
        name,
        f"B2 ended the download after {got} of {size} bytes{because}; nothing short was "
        "returned, read again to retry",
    )
