"""Upload sources: views over Django file content that b2sdk can read, part by part.

b2sdk reads the parts of a large file in parallel threads, each through its own stream from an
opener; :class:`SharedSeekable` gives each thread an independent position over one seekable file.
"""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any

from django.core.files.base import File


def known_size(content: File[Any]) -> int | None:
    try:
        size = content.size
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    return int(size) if size is not None else None


def is_text(stream: Any) -> bool:
    if isinstance(stream, io.TextIOBase):
        return True
    try:
        return isinstance(stream.read(0), str)
    except (AttributeError, OSError, ValueError):
        return False


@contextmanager
def encoded_spool(stream: Any, memory_limit: int) -> Iterator[IO[bytes]]:
    """Yield the UTF-8 bytes of a text stream in a spool (memory up to a limit, then disk)."""
    with suppress(AttributeError, OSError, ValueError):
        stream.seek(0)
    with tempfile.SpooledTemporaryFile(max_size=memory_limit) as spool:
        while chunk := stream.read(64 * 1024):
            spool.write(chunk.encode("utf-8"))
        yield spool


def seekable(stream: Any) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError):
        return False


class SharedSeekable:
    """Independent read positions over one seekable stream, so b2sdk can read parts in
    parallel threads: each ``open()`` is a view that seeks and reads under one lock."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def open(self) -> io.RawIOBase:
        return _View(self._stream, self._lock)


class _View(io.RawIOBase):
    def __init__(self, stream: IO[bytes], lock: threading.Lock) -> None:
        super().__init__()
        self._stream, self._lock, self._pos = stream, lock, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._lock:
            self._stream.seek(self._pos)
            data = self._stream.read(len(view))
        if isinstance(data, str):
            data = data.encode("utf-8")
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            with self._lock:
                offset += self._stream.seek(0, io.SEEK_END)
        self._pos = offset
        return offset

    def tell(self) -> int:
        return self._pos
