"""1. ``url()`` cost per call, beside a bare itsdangerous sign of the same payload (the floor),
django-storages' S3 ``url()`` (boto3 presigning, no network) and django-backblaze-b2's ``url()``;
and the B2 calls that 10,000 ``url()`` calls make (counted by an in-process local B2 server)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from itsdangerous import URLSafeTimedSerializer

from b2_storage.emulator import LocalB2

from . import charts
from .djangoapp import HAS_SEED, SALT, SECRET_KEY, point_seed_at
from .support import (
    Section,
    Summary,
    interleaved,
    median,
    micros,
    percentile,
    ratio,
    table,
    verdict,
)

if TYPE_CHECKING:
    from .__main__ import Context

BUCKET = "bench-urls"
NAME = "invoices/2024/invoice-000000.pdf"  # numbered(0)
FLOOR = "floor: itsdangerous URLSafeTimedSerializer.dumps"
OURS = "ours: SignedB2Storage.url()"
S3 = "django-storages S3Storage.url()"
SEED = "django-backblaze-b2 LoggedInStorage.url()"
PLAIN = "ours: B2Storage.url() (no b2_access)"
HAS_S3 = find_spec("storages") is not None and find_spec("boto3") is not None


def subjects(options: dict[str, Any]) -> dict[str, tuple[Callable[[], object], str]]:
    """Return each ``url()`` to time (warmed up), and what it returns."""
    from b2_access import LoggedInStorage

    ours = LoggedInStorage(**options)
    floor = URLSafeTimedSerializer(
        SECRET_KEY, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )
    payload = {"s": ours.fingerprint, "t": "logged_in", "e": 3600, "n": NAME}
    found: dict[str, tuple[Callable[[], object], str]] = {
        FLOOR: (lambda: floor.dumps(payload), "a signed token (no URL)"),
        OURS: (lambda: ours.url(NAME), "signed /b2/ link, expires, tier checked at click"),
    }
    if HAS_S3:
        from storages.backends.s3 import S3Storage

        s3 = S3Storage(  # a B2-style S3 endpoint and fake keys: presigning never calls out
            access_key="K004bench0000000000000001",
            secret_key="K004benchsecret00000000000000000",
            bucket_name=BUCKET,
            endpoint_url="https://s3.us-west-004.backblazeb2.com",
            region_name="us-west-004",
            signature_version="s3v4",
            querystring_expire=3600,
        )
        found[S3] = (lambda: s3.url(NAME), "presigned S3 URL (SigV4), no check at click")
    if HAS_SEED:
        from django_backblaze_b2 import LoggedInStorage as SeedLoggedIn

        seed = SeedLoggedIn()
        found[SEED] = (lambda: seed.url(NAME), "permanent unsigned /b2l/ proxy link")
    for function, _ in found.values():
        function()
    return found


def numbered(i: int) -> str:
    """Return the ``i``-th stored name: fixed width, so that no name extends another (a
    private bucket's url() hands out a token only for a file whose name nothing extends)."""
    return f"invoices/2024/invoice-{i:06}.pdf"


def store_files(options: dict[str, Any], count: int) -> None:
    """Store NAME and the first ``count`` numbered files (url() needs live files)."""
    from django.core.files.base import ContentFile

    from b2_storage import B2Storage

    writer = B2Storage(**options, allow_overwrite=True)  # a rerun overwrites the same names
    for name in {NAME, *(numbered(i) for i in range(count))}:
        writer.save(name, ContentFile(b"%PDF-1.4"))


def count_calls(quick: bool) -> tuple[dict[str, int], int]:
    """Return the B2 calls each ``url()`` makes over 10,000 calls (a local server counts)."""
    from b2_access import LoggedInStorage
    from b2_storage import B2Storage

    counts: dict[str, int] = {}
    calls = 200 if quick else 10_000
    plain_calls = min(calls, 1000)  # each makes a network round trip: measure 1,000, scale
    with LocalB2(buckets=[BUCKET]) as server:
        options = server.storage_options(BUCKET)
        point_seed_at(server.realm, server.application_key_id, server.application_key, BUCKET)
        measured: list[tuple[str, Callable[[str], object], int]] = [
            (OURS, LoggedInStorage(**options).url, calls),
            (PLAIN, B2Storage(**options).url, plain_calls),
        ]
        if HAS_SEED:
            from django_backblaze_b2 import LoggedInStorage as SeedLoggedIn

            measured.append((SEED, SeedLoggedIn().url, calls))
        store_files(options, plain_calls + 1)
        for label, url, n in measured:
            url(NAME)  # authorize and find the bucket first: those are not url()'s cost
            server.reset_calls()
            for i in range(n):
                # B2Storage reuses a URL per name for half its life: time distinct names, cold.
                url(numbered(i + 1) if label == PLAIN else NAME)
            counts[label] = round(sum(server.calls.values()) * 10_000 / n)
    return counts, plain_calls


def run(ctx: Context) -> Section:
    """Measure and return the section."""
    total = 2_000 if ctx.quick else 20_000
    options = ctx.server.options(ctx.bucket)
    point_seed_at(ctx.server.realm, ctx.server.key_id, ctx.server.key, ctx.bucket)
    found = subjects(options)
    times = interleaved({label: function for label, (function, _) in found.items()}, total)
    from b2_storage import B2Storage

    plain = B2Storage(**options)
    plain_n = 100 if ctx.quick else 1_000
    store_files(options, plain_n + 1)
    plain.url(NAME)
    fresh = itertools.count(1)
    times[PLAIN] = interleaved({PLAIN: lambda: plain.url(numbered(next(fresh)))}, plain_n)[PLAIN]
    counts, plain_calls = count_calls(ctx.quick)
    per_name = f"{counts[PLAIN] / 10_000:g}"
    returns = f"B2 download-authorization URL ({per_name} B2 calls per new name)"
    found[PLAIN] = (lambda: None, returns)

    floor = median(times[FLOOR])
    rows = []
    for label, (_, returns) in found.items():
        calls = "0 (no network)" if label in (FLOOR, S3) else f"{counts.get(label, '-'):,}"
        rows.append(
            [
                label,
                returns,
                f"{len(times[label]):,}",
                micros(median(times[label])),
                micros(percentile(times[label], 0.99)),
                ratio(median(times[label]), floor),
                calls,
            ]
        )
    headers = [
        "url() of",
        "returns",
        "calls timed",
        "median µs",
        "p99 µs",
        "vs floor (median)",
        "B2 calls per 10,000 url()",
    ]
    ours = median(times[OURS])
    missing = [
        name
        for name, ok in (("django-storages/boto3", HAS_S3), ("django-backblaze-b2", HAS_SEED))
        if not ok
    ]
    notes = (
        f"The floor signs `{{storage, tier, expiry, name}}` with the same key, salt and SHA-256. "
        f"Timed calls are interleaved in 10 rounds. B2 calls are counted by an in-process local "
        f"B2 server after one warm-up call (authorization and bucket lookup are not url()'s); "
        f"`B2Storage.url()` makes B2 calls for each name it has not handed out in the last "
        f"half of `url_expires` (then reuses the URL): a seal check (`b2_list_file_names`: B2 "
        f"tokens are name-prefix tokens, so none is handed out for a name that another live "
        f"file's name extends), then the token; so it is timed and counted on distinct "
        f"names: {plain_calls:,} calls, scaled to 10,000."
        + (f" Not installed, so left out: {', '.join(missing)}." if missing else "")
    )
    chart = charts.bars(
        ctx.out,
        "url_cost.png",
        "url() cost per call (median, log scale)",
        [(label, median(times[label]) * 1e6) for label in found],
        "µs per call",
        log=True,
    )
    summary = [
        Summary(
            "url(): median µs vs a bare itsdangerous sign",
            micros(ours),
            micros(floor),
            ratio(ours, floor),
            "<= 3x",
            verdict(ours <= 3 * floor),
        ),
        *(
            [
                Summary(
                    "url(): median µs vs django-storages S3 presigned url()",
                    micros(ours),
                    micros(median(times[S3])),
                    ratio(ours, median(times[S3])),
                )
            ]
            if S3 in times
            else []
        ),
        Summary(
            "url(): B2 calls per 10,000 calls",
            str(counts[OURS]),
            "-",
            "-",
            "0",
            verdict(counts[OURS] == 0),
        ),
    ]
    shortfalls = []
    if ours > 3 * floor:
        shortfalls.append(
            f"url() costs {ratio(ours, floor)} a bare itsdangerous sign (contract 3x)."
        )
    if counts[OURS]:
        shortfalls.append(f"10,000 url() calls made {counts[OURS]} B2 calls (contract 0).")
    return Section(
        "url",
        "1. url() cost per call",
        f"{table(headers, rows)}\n\n{notes}{charts.link(chart)}",
        summary,
        [chart] if chart else [],
        shortfalls,
    )
