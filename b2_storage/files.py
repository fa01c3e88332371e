"""``B2File``: a Django ``File`` that streams from B2 with ranged reads, or spools a write.

Reading never holds the whole object: one streaming download runs from the current position and
is reopened at the new position after a ``seek``. A read from byte 0 to the end is checked
against the SHA1 B2 stored (see :mod:`.integrity`). Writing (mode ``"w"``/``"a"`` with ``"b"``)
spools into a ``SpooledTemporaryFile`` (memory up to one part, then disk) and is saved on close.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from typing import Any, Protocol

from django.core.files.base import File

from .config import StorageConfig
from .integrity import WholeFileCheck, check_version, incomplete
from .meta import FileMeta

CHUNK = 1024 * 1024


class FileStore(Protocol):
    """What a ``B2File`` needs of its storage (``B2Storage`` provides it)."""

    config: StorageConfig

    def _require(self, name: str, *, fresh: bool = False) -> FileMeta: ...

    def _open_range(
        self, name: str, start: int, end: int, chunk: int, file_id: str | None = None
    ) -> tuple[Iterator[bytes], Any]: ...

    def _save_file(self, name: str, content: File[Any]) -> None: ...


class RangedReader(io.BufferedIOBase):
    """A seekable, buffered stream over one B2 file version; downloads from the current position.

    It buffers one downloaded chunk, and every read returns bytes through :meth:`_serve`, which
    checks a whole-file read's SHA1 before returning the bytes that reach the end of the file. A
    download that breaks off, or serves another version, raises; no short read is returned.
    """

    def __init__(self, storage: FileStore, name: str, meta: FileMeta) -> None:
        super().__init__()
        self._storage = storage
        self._name = name
        self._size = meta.size
        self._file_id = meta.file_id
        self._check = WholeFileCheck(name, meta.size, meta.sha1)
        self._pos = 0  # what the caller has been given
        self._next = 0  # where the next byte of the buffer (or download) is in the file
        self._chunks: Iterator[bytes] | None = None
        self._response: Any = None
        self._chunk = b""
        self._offset = 0

    @property
    def checking(self) -> bool:
        """Return whether reading on to the end from here will be checked against B2's SHA1."""
        return self._check.active

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
            self._pos = self._next = position
            self._check.moved(position)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._wanted(size)
        if wanted <= 0:
            return b""
        start = self._pos
        first = self._take(wanted)
        if len(first) == wanted:
            return self._serve(start, first)
        pieces, got = [first], len(first)
        while got < wanted:
            piece = self._take(wanted - got)
            pieces.append(piece)
            got += len(piece)
        return self._serve(start, b"".join(pieces))

    def read1(self, size: int | None = -1) -> bytes:
        wanted = self._wanted(size)
        return self._serve(self._pos, self._take(wanted)) if wanted > 0 else b""

    def readline(self, size: int | None = -1) -> bytes:
        wanted = self._wanted(size)
        start, pieces, got = self._pos, [], 0
        while got < wanted:
            if self._offset >= len(self._chunk):
                self._fetch()
            end = min(len(self._chunk), self._offset + wanted - got)
            newline = self._chunk.find(b"\n", self._offset, end)
            piece = self._take((end if newline < 0 else newline + 1) - self._offset)
            pieces.append(piece)
            got += len(piece)
            if newline >= 0:
                break
        return self._serve(start, b"".join(pieces)) if pieces else b""

    def _wanted(self, size: int | None) -> int:
        if self.closed:
            raise ValueError(f"I/O operation on closed B2 file {self._name!r}.")
        remaining = self._size - self._pos
        return remaining if size is None or size < 0 else min(size, remaining)

    def _take(self, limit: int) -> bytes:
        """Return up to ``limit`` bytes of the buffer (downloading a chunk when it is empty)."""
        if self._offset >= len(self._chunk):
            self._fetch()
        start = self._offset
        end = self._offset = min(len(self._chunk), start + limit)
        self._next += end - start
        if start == 0 and end == len(self._chunk):
            return self._chunk
        return self._chunk[start:end]

    def _fetch(self) -> None:
        if self._chunks is None:
            self._chunks, self._response = self._storage._open_range(
                self._name, self._next, self._size - 1, CHUNK, self._file_id
            )
            try:
                check_version(self._name, self._file_id, self._response)
            except Exception:
                self._drop()
                raise
        got = self._next
        try:
            chunk = next(self._chunks, b"")
        except OSError as exc:  # requests' errors (a connection broken mid-body) are OSErrors
            self._drop()
            raise incomplete(self._name, got, self._size, type(exc).__name__) from exc
        if not chunk:
            self._drop()
            raise incomplete(self._name, got, self._size)
        self._chunk, self._offset = chunk, 0

    def _serve(self, start: int, data: bytes) -> bytes:
        """Return ``data`` (bytes ``start..``) to the caller, or raise if the check fails."""
        end = start + len(data)
        try:
            self._check.served(data, end)
        except Exception:
            self._drop()  # the next read downloads these bytes again, and checks them again
            raise
        self._pos = end
        return data

    def _drop(self) -> None:
        if self._response is not None:
            self._response.close()
        self._chunks = self._response = None
        self._chunk, self._offset = b"", 0
        self._next = self._pos

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
        self, name: str, storage: FileStore, mode: str = "rb", *, meta: FileMeta | None = None
    ) -> None:
        check_mode(mode)
        self.name = name
        self.mode = mode
        self._storage = storage
        self._writing = "w" in mode
        self._meta = meta  # the version a read returns (looked up on first use when not given)
        self._file: Any = None
        self._closed = False

    @property
    def size(self) -> int:
        if self._writing:
            return int(self._get_file().seek(0, os.SEEK_END))
        return self._version().size

    def _version(self) -> FileMeta:
        if self._meta is None:
            self._meta = self._storage._require(self.name, fresh=True)
        return self._meta

    def _get_file(self) -> Any:
        if self._closed:
            raise ValueError(f"I/O operation on closed B2 file {self.name!r}.")
        if self._file is None:
            if self._writing:
                spool_limit = self._storage.config.part_size
                self._file = tempfile.SpooledTemporaryFile(max_size=spool_limit)  # noqa: SIM115
            else:
                self._file = RangedReader(self._storage, self.name, self._version())
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
