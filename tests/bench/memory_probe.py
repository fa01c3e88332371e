"""One peak-memory measurement in a fresh process (run by tests.bench.memory).

Reads ``BENCH_PROBE`` (JSON: impl ``ours``/``seed``/``b2sdk``, op ``save``/``read``, the
server's credentials, bucket, local source path, B2 name, part size), warms up (authorizes,
finds the bucket), resets the peak (``/proc/self/clear_refs``), runs the operation, and prints
JSON: RSS before, peak (VmHWM) after, seconds, and whether the peak could be reset.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from tests.b2_storage.memory_probe import reset_peak, status

MiB = 1024 * 1024


def drain(stream: Any) -> int:
    """Read ``stream`` to the end in 1 MiB reads; return the byte count."""
    total = 0
    while chunk := stream.read(MiB):
        total += len(chunk)
    return total


def operation(probe: dict[str, Any]) -> tuple[Callable[[], object], Callable[[], object]]:
    """Return (warm-up, the measured operation) for the probe's implementation and op."""
    from django.core.files import File

    from .support import Discard

    impl, op, name, path = probe["impl"], probe["op"], probe["name"], probe["path"]
    options = {
        "realm": probe["realm"],
        "application_key_id": probe["key_id"],
        "application_key": probe["key"],
        "bucket": probe["bucket"],
    }
    if impl == "b2sdk":
        from b2sdk.v2 import B2Api, InMemoryAccountInfo

        api = B2Api(InMemoryAccountInfo())
        api.authorize_account(probe["realm"], probe["key_id"], probe["key"])
        bucket = api.get_bucket_by_name(probe["bucket"])
        if op == "save":
            return lambda: None, lambda: bucket.upload_local_file(path, name)
        return lambda: None, lambda: bucket.download_file_by_name(name).save(Discard())
    if impl == "ours":
        from b2_storage import B2Storage

        storage: Any = B2Storage(**options, part_size=probe["part_size"])
        warm = lambda: storage.exists("warm-up")  # noqa: E731
    else:
        from django_backblaze_b2 import BackblazeB2Storage

        storage = BackblazeB2Storage()
        warm = lambda: storage.bucket  # noqa: E731
    if op == "save":

        def save() -> None:
            with open(path, "rb") as source:
                storage.save(name, File(source, name=name))

        return warm, save

    def read() -> None:
        with storage.open(name, "rb") as opened:
            assert drain(opened) == os.path.getsize(path)

    return warm, read


def main() -> None:
    probe = json.loads(os.environ["BENCH_PROBE"])
    from .djangoapp import seed_config, setup

    setup(seed=seed_config(probe["realm"], probe["key_id"], probe["key"], probe["bucket"]))
    warm, run = operation(probe)
    warm()
    before = status("VmRSS")
    reset = reset_peak()
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    print(
        json.dumps({"before": before, "peak": status("VmHWM"), "seconds": seconds, "reset": reset})
    )


if __name__ == "__main__":
    main()
