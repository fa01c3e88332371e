"""``B2File``: a Django ``File`` that streams from B2 with ranged reads, or spools a write.

Reading never holds the whole object: one streaming download runs from the current position and
is reopened at the new position after a ``seek``. Writing (mode ``"w"``/``"a"`` with ``"b"``)
spools into a ``SpooledTemporaryFile`` (memory up to one part, then disk) and is saved on close.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.core.files.base import File

if TYPE_CHECKING:
    from .storage import B2Storage

CHUNK = 1024 * 1024


class RangedReader(io.RawIOBase):
    """A seekable raw stream over one B2 file; downloads lazily from the current position."""

    def __init__(self, storage: B2Storage, name: str, size: int) -> None:
        super().__init__()
        self._storage = storage
        self._name = name
        self._size = size
        self._pos = 0
        self._chunks: Iterator[bytes] | None = None
        self._response: Any = None
        self._pending = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        position = base + offset
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        if position != self._pos:
            self._drop()
            self._pos = position
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos >= self._size or not len(view):
            return 0
        if not self._pending:
            if self._chunks is None:
                self._chunks, self._response = self._storage._open_range(
                    self._name, self._pos, self._size - 1, CHUNK
                )
            self._pending = next(self._chunks, b"")
            if not self._pending:
                self._drop()
                raise OSError(f"B2 ended the download of {self._name!r} early")
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self._pos += count
        return count

    def _drop(self) -> None:
        if self._response is not None:
            self._response.close()
        self._chunks = self._response = None
        self._pending = b""

    def close(self) -> None:
        self._drop()
        super().close()


def check_mode(mode: str) -> None:
    """Raise ``ValueError`` unless ``mode`` reads or (over)writes a whole file."""
    if "a" in mode or "+" in mode or "x" in mode or not ("r" in mode or "w" in mode):
        raise ValueError(f"B2 files open for reading ('rb') or writing ('wb'), not {mode!r}.")


class B2File(File):  # type: ignore[type-arg]
    """A file of a B2 storage: streamed for reading, spooled for writing.

    Like a local file, it refuses I/O once closed (``open()`` reopens it); a file opened for
    writing is saved on ``close()``, empty if nothing was written.
    """

    name: str

    def __init__(
        self, name: str, storage: B2Storage, mode: str = "rb", *, size: int | None = None
    ) -> None:
        check_mode(mode)
        self.name = name
        self.mode = mode
        self._storage = storage
        self._writing = "w" in mode
        self._size = size
        self._file: Any = None
        self._closed = False

    @property
    def size(self) -> int:
        if self._writing:
            return int(self._get_file().seek(0, os.SEEK_END))
        if self._size is None:
            self._size = self._storage.size(self.name)
        return self._size

    def _get_file(self) -> Any:
        if self._closed:
            raise ValueError(f"I/O operation on closed B2 file {self.name!r}.")
        if self._file is None:
            if self._writing:
                spool_limit = self._storage.config.part_size
                self._file = tempfile.SpooledTemporaryFile(max_size=spool_limit)  # noqa: SIM115
            else:
                raw = RangedReader(self._storage, self.name, self.size)
                self._file = io.BufferedReader(raw, buffer_size=CHUNK)
                if "b" not in self.mode:
                    self._file = io.TextIOWrapper(self._file, encoding="utf-8")
        return self._file

    def _set_file(self, value: Any) -> None:
        self._file = value

    file = property(_get_file, _set_file)

    def write(self, content: Any) -> int:
        """Write to the spool; the file is saved to B2 on ``close()``."""
        if not self._writing:
            raise io.UnsupportedOperation(f"{self.name!r} was opened for reading.")
        data = content.encode("utf-8") if isinstance(content, str) else content
        return int(self._get_file().write(data))

    def close(self) -> None:
        """Close the download, or save what was written (possibly nothing) to B2."""
        if self._closed:
            return
        spool = self._get_file() if self._writing else self._file
        self._closed, self._file = True, None
        if spool is None:
            return
        try:
            if self._writing:
                spool.seek(0)
                self._storage._save_file(self.name, File(spool, name=self.name))
        finally:
            spool.close()

    @property
    def closed(self) -> bool:
        return self._closed or self._file is None or bool(self._file.closed)

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> B2File:
        """Reopen (or rewind) the file in the mode it was opened with."""
        if mode is not None and mode != self.mode:
            raise ValueError("Reopen a B2 file with the mode it was opened with.")
        if self._closed:
            self._closed = False
        elif self._file is not None:
            self._file.seek(0)
        return self
