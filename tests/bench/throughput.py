"""5. Upload and download MB/s of one file: ours (B2Storage ``save`` / ``open().read()``) against
raw b2sdk on the same server, with django-backblaze-b2 beside them and a plain HTTP GET of the
same bytes as the floor (what the local server itself can serve). Also writes
``docs/performance/emulator.md`` (the local server's own throughput)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests
from b2sdk.v2 import B2Api, InMemoryAccountInfo

from . import charts
from .djangoapp import HAS_SEED, point_seed_at
from .support import MB, Discard, MiB, Section, Summary, median, ratio, table, timed, verdict

if TYPE_CHECKING:
    from django.core.files.storage import Storage

    from .__main__ import Context


# Every whole read is checked against the SHA1 B2 stored (b2_storage.integrity); raw b2sdk's
# save() checks it too. The label says so, so the table never reads as an unchecked download.
OURS_READ = "ours: B2Storage.open().read() (SHA1 checked)"


def run(ctx: Context) -> Section:
    """Measure and return the section."""
    from django.core.files.base import ContentFile

    from b2_storage import B2Storage

    size_mb, repeat = (4, 2) if ctx.quick else (100, 9)
    data = os.urandom(size_mb * MB)
    api = B2Api(InMemoryAccountInfo())
    api.authorize_account(ctx.server.realm, ctx.server.key_id, ctx.server.key)
    bucket = api.get_bucket_by_name(ctx.bucket)
    ours = B2Storage(**ctx.server.options(ctx.bucket), allow_overwrite=True)
    ours.exists("warm-up")
    point_seed_at(ctx.server.realm, ctx.server.key_id, ctx.server.key, ctx.bucket)
    seed = None
    if HAS_SEED:
        from django_backblaze_b2 import BackblazeB2Storage

        seed = BackblazeB2Storage(allow_file_overwrites=True)

    def read_with(storage: Storage) -> Callable[[], None]:
        def read() -> None:
            got = 0
            with storage.open("throughput/file.bin", "rb") as opened:
                checked = getattr(opened.file, "checking", None)
                assert checked in (None, True), "ours must run with the SHA1 check on"
                while chunk := opened.read(MiB):
                    got += len(chunk)
            assert got == len(data), (storage, got)

        return read

    uploads: dict[str, Callable[[], object]] = {
        "ours: B2Storage.save()": lambda: ours.save("throughput/file.bin", ContentFile(data)),
        "raw b2sdk: bucket.upload_bytes()": lambda: bucket.upload_bytes(
            data, "throughput/file.bin"
        ),
    }
    downloads: dict[str, Callable[[], object]] = {
        OURS_READ: read_with(ours),
        "raw b2sdk: download_file_by_name().save()": lambda: bucket.download_file_by_name(
            "throughput/file.bin"
        ).save(Discard()),
    }
    if seed is not None:
        uploads["django-backblaze-b2: save()"] = lambda: seed.save(
            "throughput/file.bin", ContentFile(data)
        )
        downloads["django-backblaze-b2: open().read()"] = read_with(seed)
    token = bucket.get_download_authorization("throughput/", 3600)
    session = requests.Session()
    url = f"{ctx.server.realm}/file/{ctx.bucket}/throughput/file.bin"

    def plain_get() -> None:
        with session.get(url, params={"Authorization": token}, stream=True, timeout=120) as got:
            assert sum(len(chunk) for chunk in got.iter_content(MiB)) == len(data)

    downloads["plain HTTP GET (floor)"] = plain_get
    times: dict[str, list[float]] = {label: [] for label in [*uploads, *downloads]}
    for _ in range(repeat):  # interleaved: each round uploads with each, then downloads
        for label, function in uploads.items():
            times[label] += timed(function, 1)
        for label, function in downloads.items():
            times[label] += timed(function, 1)
    rates = {label: size_mb / median(values) for label, values in times.items()}
    for version in bucket.list_file_versions("throughput/file.bin"):
        api.delete_file_version(version.id_, version.file_name)
    raw_labels = ("raw b2sdk: bucket.upload_bytes()", "raw b2sdk: download_file_by_name().save()")

    def paired(label: str) -> float:
        """The median over rounds of raw b2sdk's time / this one's (both ran in that round)."""
        raw_times = times[raw_labels[0] if label in uploads else raw_labels[1]]
        return median([r / t for r, t in zip(raw_times, times[label], strict=True)])

    raw_up, raw_down = (
        rates["raw b2sdk: bucket.upload_bytes()"],
        rates["raw b2sdk: download_file_by_name().save()"],
    )
    floor = rates["plain HTTP GET (floor)"]
    rows = []
    for label in times:
        raw = raw_up if label in uploads else raw_down
        rows.append(
            [
                label,
                "upload" if label in uploads else "download",
                f"{size_mb} MB",
                f"{rates[label]:,.0f}",
                f"{size_mb / max(times[label]):,.0f}–{size_mb / min(times[label]):,.0f}",
                f"{paired(label):.2f}x",
                ratio(rates[label], floor),
            ]
        )
    headers = [
        "implementation",
        "direction",
        "file",
        "MB/s (median)",
        "MB/s (slowest–fastest run)",
        "vs raw b2sdk (median of per-round ratios)",
        "vs plain GET",
    ]
    notes = (
        f"{repeat} interleaved rounds (each runs every implementation once); the median "
        f"run's MB/s, and the ratio to raw b2sdk as the median of each round's ratio (both "
        f"ran seconds apart, so they saw the same machine). Every upload starts from bytes in "
        f"memory (`ContentFile` / `upload_bytes`), every download reads to the end and drops the "
        f"bytes. Ours and the seed use their default part sizes (100 MB: one upload call here), "
        f"b2sdk the server's recommended part size (100 MB)."
    )
    ours_up, ours_down = rates["ours: B2Storage.save()"], rates[OURS_READ]
    chart = charts.grouped(
        ctx.out,
        "throughput.png",
        f"Throughput, {size_mb} MB file (median)",
        ["upload", "download"],
        {
            "ours": [ours_up, ours_down],
            "raw b2sdk": [raw_up, raw_down],
            **(
                {
                    "django-backblaze-b2": [
                        rates["django-backblaze-b2: save()"],
                        rates["django-backblaze-b2: open().read()"],
                    ]
                }
                if seed is not None
                else {}
            ),
        },
        "MB/s",
    )
    summary, shortfalls = [], []
    for direction, value, raw, label in (
        ("upload", ours_up, raw_up, "ours: B2Storage.save()"),
        ("download", ours_down, raw_down, OURS_READ),
    ):
        share = paired(label)
        ok = share >= 0.9
        summary.append(
            Summary(
                f"{direction.capitalize()} MB/s, {size_mb} MB, vs raw b2sdk",
                f"{value:,.0f}",
                f"{raw:,.0f}",
                f"{share:.2f}x",
                ">= 0.9x",
                verdict(ok),
            )
        )
        if not ok:
            shortfalls.append(
                f"{direction.capitalize()} throughput is {share:.2f}x raw b2sdk's (median of "
                f"per-round ratios; {value:,.0f} vs {raw:,.0f} MB/s; contract 0.9x)."
            )
    emulator = (
        "## Local B2 server throughput\n\n"
        "From the same run as [the benchmarks](README.md) (section 5). Command: "
        "`hatch run bench:all`.\n\n"
        + table(
            ["operation", "size", "MB/s (median)", "vs plain GET"],
            [
                ["b2sdk upload", f"{size_mb} MB", f"{raw_up:,.0f}", ratio(raw_up, floor)],
                ["b2sdk download", f"{size_mb} MB", f"{raw_down:,.0f}", ratio(raw_down, floor)],
                ["plain HTTP GET (floor)", f"{size_mb} MB", f"{floor:,.0f}", "1.00x"],
            ],
        )
        + "\n"
    )
    return Section(
        "throughput",
        "5. Upload and download throughput",
        f"{table(headers, rows)}\n\n{notes}{charts.link(chart)}",
        summary,
        [chart] if chart else [],
        shortfalls,
        {"emulator.md": emulator},
    )
