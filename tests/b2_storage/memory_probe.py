"""Run by test_memory in a subprocess: save and read back a large generated file through
B2Storage, and print the peak memory of each as JSON.

Usage: ``python -m tests.b2_storage.memory_probe REALM KEY_ID KEY BUCKET SIZE PART_SIZE``
(with ``DJANGO_SETTINGS_MODULE`` set). The B2 server runs in another process so that its
memory is not counted here.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import sys
from typing import Any

import django

MiB = 1024 * 1024


def status(field: str) -> int:
    """Return a memory field of /proc/self/status in bytes."""
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux clear_refs 5); return whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


class Generated(io.RawIOBase):
    """A seekable stream of ``size`` deterministic bytes that holds only one 1 MiB block:
    block ``n`` is the base block rotated by ``n * 7919`` bytes."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._pos = 0
        self._base = random.Random(1).randbytes(MiB)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos += offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = max(0, min(len(view), self.size - self._pos))
        done = 0
        while done < count:
            block, offset = divmod(self._pos + done, MiB)
            start = (offset + block * 7919) % MiB
            take = min(count - done, MiB - offset, MiB - start)
            view[done : done + take] = self._base[start : start + take]
            done += take
        self._pos += count
        return count


def sha1_of(stream: Any) -> str:
    digest = hashlib.sha1()
    while chunk := stream.read(MiB):
        digest.update(chunk)
    return digest.hexdigest()


def main(realm: str, key_id: str, key: str, bucket: str, size: int, part: int) -> dict[str, Any]:
    django.setup()
    from django.core.files.base import File

    from b2_storage import B2Storage

    expected = sha1_of(Generated(size))
    storage = B2Storage(
        realm=realm,
        application_key_id=key_id,
        application_key=key,
        bucket=bucket,
        part_size=part,
    )
    storage.exists("warm-up")  # authorize and find the bucket before measuring
    result: dict[str, Any] = {"size": size, "part_size": part}

    before = status("VmRSS")
    result["peak_reset"] = reset_peak()
    name = storage.save("big.bin", File(Generated(size), name="big.bin"))
    result["upload_rss_before"] = before
    result["upload_peak"] = status("VmHWM")

    before = status("VmRSS")
    reset_peak()
    with storage.open(name, "rb") as f:
        result["sha1_ok"] = sha1_of(f) == expected
    result["download_rss_before"] = before
    result["download_peak"] = status("VmHWM")
    result["stored_size"] = storage.size(name)
    return result


if __name__ == "__main__":
    realm, key_id, key, bucket, size, part = sys.argv[1:7]
    print(json.dumps(main(realm, key_id, key, bucket, int(size), int(part))))
