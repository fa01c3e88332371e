"""4. Peak memory of ``save()`` and ``open().read()`` (1 MiB reads) of one large file, each in
a fresh process (tests.bench.memory_probe): ours (part_size 32 MiB), django-backblaze-b2, and raw
b2sdk (``upload_local_file`` / ``download_file_by_name().save()``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from b2sdk.v2 import B2Api, InMemoryAccountInfo

from . import charts
from .djangoapp import HAS_SEED
from .support import (
    ROOT,
    MiB,
    Section,
    Summary,
    human_size,
    table,
    verdict,
    write_random_file,
)

if TYPE_CHECKING:
    from .__main__ import Context

PART = 32 * MiB
ALLOWANCE = 2 * PART + 40 * MiB  # two parts in flight, plus threads' stacks and buffers
LABELS = {
    "ours": "ours: B2Storage (part_size 32 MiB)",
    "seed": "django-backblaze-b2 7.0.0",
    "b2sdk": "raw b2sdk",
}
OPS = {"save": "save()", "read": "open().read() in 1 MiB reads"}


def probe(ctx: Context, impl: str, op: str, path: str, name: str) -> dict[str, Any]:
    """Run one measurement in a fresh process; return its JSON."""
    config = {
        "impl": impl,
        "op": op,
        "path": path,
        "name": name,
        "part_size": PART,
        "realm": ctx.server.realm,
        "key_id": ctx.server.key_id,
        "key": ctx.server.key,
        "bucket": ctx.bucket,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tests.bench.memory_probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_PROBE": json.dumps(config)},
        timeout=1800,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"memory probe {impl} {op} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run(ctx: Context) -> Section:
    """Measure and return the section."""
    size = 8 * MiB if ctx.quick else int(os.environ.get("BENCH_MEMORY_MIB", "1024")) * MiB
    path = ctx.tmp / "memory-source.bin"
    write_random_file(path, size)
    api = B2Api(InMemoryAccountInfo())
    api.authorize_account(ctx.server.realm, ctx.server.key_id, ctx.server.key)
    bucket = api.get_bucket_by_name(ctx.bucket)
    source = "memory/source.bin"
    bucket.upload_local_file(str(path), source)
    impls = ["ours", "seed", "b2sdk"] if HAS_SEED else ["ours", "b2sdk"]
    peaks: dict[tuple[str, str], float] = {}
    resets: list[bool] = []
    rows = []
    for op in OPS:
        for impl in impls:
            name = source if op == "read" else f"memory/saved-by-{impl}.bin"
            result = probe(ctx, impl, op, str(path), name)
            growth = max(0, result["peak"] - result["before"]) / MiB
            peaks[impl, op] = growth
            resets.append(bool(result["reset"]))
            rate = size / 1e6 / result["seconds"]
            rows.append(
                [
                    OPS[op],
                    LABELS[impl],
                    f"{growth:,.0f}",
                    f"{result['peak'] / MiB:,.0f}",
                    f"{growth * MiB / size:.1%}",
                    f"{rate:,.0f}",
                ]
            )
            if op == "save":
                for version in bucket.list_file_versions(name):
                    api.delete_file_version(version.id_, version.file_name)
    path.unlink()
    headers = [
        "operation",
        "implementation",
        "peak growth MiB",
        "peak RSS MiB",
        "growth / file size",
        "MB/s (incidental)",
    ]
    limit = ALLOWANCE / MiB
    notes = (
        f"File: {human_size(size)} of random bytes on local disk. Each row is a fresh Python "
        f"process that first authorizes and finds the bucket, then resets its peak "
        f'(`/proc/self/clear_refs`), runs the operation and reads `VmHWM`; "peak growth" is '
        f"that peak minus the RSS just before. Ours uses `part_size=32 MiB` (the default is "
        f"100 MB); the contract's bound is read as two parts in flight plus 40 MiB "
        f"(= {limit:.0f} MiB). b2sdk and the seed use the server's recommended part size "
        f"(100 MB)."
    )
    if not all(resets):
        notes += (
            " This kernel refused `clear_refs`, so peaks include start-up: compare the "
            "peak RSS column."
        )
    chart = charts.grouped(
        ctx.out,
        "memory.png",
        f"Peak memory growth, {human_size(size)} file",
        list(OPS.values()),
        {LABELS[i]: [peaks[i, op] for op in OPS] for i in impls},
        "MiB",
    )
    summary, shortfalls = [], []
    for op in OPS:
        ours, raw = peaks["ours", op], peaks["b2sdk", op]
        seed = f", seed {peaks['seed', op]:,.0f}" if HAS_SEED else ""
        summary.append(
            Summary(
                f"Peak memory growth MiB, {OPS[op]} of {human_size(size)}",
                f"{ours:,.0f}",
                f"raw b2sdk {raw:,.0f}{seed}",
                f"{ours * MiB / size:.1%} of the file",
                f"<= {limit:.0f} (2 parts + 40)",
                verdict(ours <= limit),
            )
        )
        if ours > limit:
            shortfalls.append(
                f"{OPS[op]} of {human_size(size)} grew the process by "
                f"{ours:,.0f} MiB (bound {limit:.0f} MiB with 32 MiB parts)."
            )
    return Section(
        "memory",
        "4. Peak memory of save() and open().read()",
        f"{table(headers, rows)}\n\n{notes}{charts.link(chart)}",
        summary,
        [chart] if chart else [],
        shortfalls,
    )
