"""2. Django-side time per download, by file size: ours answers a signed link with a 302 to B2
(warm token cache); django-backblaze-b2 streams the bytes through its ``/b2l/`` proxy view.
Beside them: an empty view through the same middleware stack, and the browser's own GET of the
bytes from B2 (time that ours spends outside Django)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from . import charts
from .djangoapp import HAS_SEED, Wsgi, login_cookies, point_seed_at, settings_dict
from .support import (
    MB,
    Section,
    Summary,
    human_size,
    interleaved,
    median,
    millis,
    percentile,
    ratio,
    redis_server,
    table,
    timed,
    verdict,
)

if TYPE_CHECKING:
    from django.core.files.base import ContentFile

    from b2_access import LoggedInStorage

    from .__main__ import Context

FULL = {1_000: 200, MB: 50, 10 * MB: 10, 100 * MB: 5}  # size: seed and B2 GET repeats
QUICK = {1_000: 10, 200_000: 5}


def run(ctx: Context) -> Section:
    """Measure and return the section."""
    from b2_access import LoggedInStorage

    sizes = QUICK if ctx.quick else FULL
    redirects = 100 if ctx.quick else 1_000
    storage = LoggedInStorage(**ctx.server.options(ctx.bucket))
    point_seed_at(ctx.server.realm, ctx.server.key_id, ctx.server.key, ctx.bucket)
    (cookie,) = login_cookies(1, "downloader")
    wsgi = Wsgi()
    session = requests.Session()
    ours_label, empty_label, user_label = (
        "ours: 302 to B2",
        "empty view (same stack)",
        "empty view that reads request.user",
    )
    seed_label, b2_label = "django-backblaze-b2: /b2l/ proxy", "browser's GET of the bytes from B2"
    series: dict[str, list[float]] = {
        label: [] for label in (ours_label, empty_label, user_label, seed_label, b2_label)
    }
    rows, overheads, bare_overheads = [], [], []
    for size, repeat in sizes.items():
        name = storage.save(f"downloads/file-{size}.bin", _content(size))
        link = storage.url(name)
        status, answer, _ = wsgi.get(link, cookie)  # cold: fetch the B2 token once
        assert status == 302, status
        django_side = {
            ours_label: _request(wsgi, link, cookie, 302),
            empty_label: _request(wsgi, "/empty/", cookie, 200),
            user_label: _request(wsgi, "/empty-user/", cookie, 200),
        }
        times = interleaved(django_side, redirects)

        def b2_get(location: str = answer["Location"], size: int = size) -> None:
            with session.get(location, stream=True, timeout=120) as response:
                assert response.status_code == 200, response.status_code
                got = sum(len(c) for c in response.iter_content(1024 * 1024))
            assert got == size, got

        times[b2_label] = timed(b2_get, repeat)
        if HAS_SEED:

            def seed(name: str = name, size: int = size) -> None:
                status, _, length = wsgi.get(f"/b2l/{name}", cookie)
                assert (status, length) == (200, size), (status, length)

            seed()
            times[seed_label] = timed(seed, repeat)
        medians = {label: median(values) for label, values in times.items()}
        overheads.append(medians[ours_label] - medians[user_label])
        bare_overheads.append(medians[ours_label] - medians[empty_label])
        seed_m = medians.get(seed_label)
        rows.append(
            [
                human_size(size),
                millis(medians[ours_label]),
                millis(percentile(times[ours_label], 0.99)),
                millis(medians[empty_label]),
                millis(medians[user_label]),
                millis(seed_m) if seed_m else "-",
                millis(percentile(times[seed_label], 0.99)) if seed_m else "-",
                ratio(seed_m, medians[ours_label]) if seed_m else "-",
                millis(medians[b2_label]),
            ]
        )
        for label, value in medians.items():
            series[label].append(value * 1e3)
        storage.delete(name)
    series = {label: values for label, values in series.items() if values}
    on_redis = _overhead_on_redis(storage, cookie, redirects)
    headers = [
        "file",
        "ours: 302 median ms",
        "ours p99 ms",
        "empty view median ms",
        "empty view reading request.user ms",
        "seed proxy median ms",
        "seed p99 ms",
        "seed / ours",
        "browser ← B2 GET ms (not Django's)",
    ]
    chart = charts.lines(
        ctx.out,
        "download_time.png",
        "Django-side time per download (median)",
        list(sizes),
        [human_size(s) for s in sizes],
        series,
        "milliseconds",
    )
    overhead, bare = median(overheads), median(bare_overheads)
    notes = (
        f"Each request goes straight into Django's WSGI handler (no server, no test client) "
        f"with a logged-in user's session cookie, through SessionMiddleware, "
        f"AuthenticationMiddleware and B2AccessMiddleware (database sessions, SQLite). Ours: "
        f"{redirects:,} requests per size (warm B2 token), interleaved with as many of each "
        f"empty view; the seed and the B2 GET: "
        f"{', '.join(f'{n} at {human_size(s)}' for s, n in sizes.items())}, reading the whole "
        f"body as a WSGI server would. The empty view never touches the session, so its "
        f"requests skip the two queries (session, user) that any access check needs; the view "
        f"that reads `request.user` (as `@login_required` does) is the like-for-like floor. "
        f"Warm redirect overhead (median of the per-size medians): **{overhead * 1e3:.3f} ms** "
        f"over the view that reads `request.user`, {bare * 1e3:.3f} ms over the empty view."
    )
    if on_redis is None:
        notes += " The Redis row was skipped: `redis-server` is not installed."
    else:
        notes += (
            f"\n\nWith the Django caches on Redis (the production set-up: B2 tokens and the B2 "
            f"account in Redis), the same warm redirect of a {human_size(1000)} file costs "
            f"**{on_redis * 1e3:.3f} ms** more than the view that reads `request.user`."
        )
    seed_first = series.get(seed_label, [0.0])[0]
    seed_last = series.get(seed_label, [0.0])[-1]
    summary = [
        Summary(
            f"Django time per download, {rows[0][0]}: ours 302 vs seed proxy (ms)",
            rows[0][1],
            rows[0][5],
            ratio(series[ours_label][0], seed_first),
        ),
        Summary(
            f"Django time per download, {rows[-1][0]}: ours 302 vs seed proxy (ms)",
            rows[-1][1],
            rows[-1][5],
            ratio(series[ours_label][-1], seed_last),
        ),
        Summary(
            "Warm redirect overhead over an empty view reading request.user, in-process WSGI (ms)",
            f"{overhead * 1e3:.3f}",
            f"(the view: {millis(median(series[user_label]) / 1e3)} ms)",
            "-",
            "<= 0.1 ms",
            verdict(overhead <= 0.0001),
        ),
    ]
    if on_redis is not None:
        summary.append(
            Summary(
                "... the same with the caches on Redis (production set-up) (ms)",
                f"{on_redis * 1e3:.3f}",
                "-",
                "-",
                "<= 0.1 ms",
                verdict(on_redis <= 0.0001),
            )
        )
    shortfalls = []
    if on_redis is not None and on_redis > 0.0001:
        shortfalls.append(
            f"With the caches on Redis, a warm redirect costs {on_redis * 1e3:.3f} ms more than "
            f"an empty view that reads `request.user` (contract 0.1 ms). Each warm redirect "
            f"makes one Redis GET: `B2Client.public_url()` reads the account's download URL "
            f"from the account-info backend (the `django-cache` backend, i.e. Redis) and "
            f"unpickles the whole account entry, on every redirect; the B2 token itself comes "
            f"from the in-process cache."
        )
    if overhead > 0.0001:
        shortfalls.append(
            f"In-process, a warm redirect costs {overhead * 1e3:.3f} ms more than an empty "
            f"view that reads `request.user` (contract 0.1 ms; {bare * 1e3:.3f} ms more than a "
            f"view that loads no session at all). Beyond the user check, the middleware "
            f"verifies an HMAC-SHA256 signature, decodes the JSON payload, looks up the token "
            f"cache, builds the B2 URL (urlencode) and a redirect with two extra headers."
        )
    return Section(
        "downloads",
        "2. Django-side time per download",
        f"{table(headers, rows)}\n\n{notes}{charts.link(chart)}",
        summary,
        [chart] if chart else [],
        shortfalls,
    )


def _overhead_on_redis(storage: LoggedInStorage, cookie: str, redirects: int) -> float | None:
    """Return the warm redirect's overhead over the view reading ``request.user`` with every
    Django cache on a Redis server (``None`` without redis-server)."""
    from django.test import override_settings

    with redis_server() as url:
        if url is None:
            return None
        with override_settings(CACHES=settings_dict(redis=url)["CACHES"]):
            wsgi = Wsgi()  # a new middleware chain, with a token cache on these caches
            name = storage.save("downloads/on-redis.bin", _content(1000))
            link = storage.url(name)
            assert wsgi.get(link, cookie)[0] == 302  # cold: authorize, fetch the token
            times = interleaved(
                {
                    "ours": _request(wsgi, link, cookie, 302),
                    "user": _request(wsgi, "/empty-user/", cookie, 200),
                },
                redirects,
            )
            storage.delete(name)
    return median(times["ours"]) - median(times["user"])


def _request(wsgi: Wsgi, path: str, cookie: str, expected: int) -> Callable[[], None]:
    def request() -> None:
        status, _, _ = wsgi.get(path, cookie)
        assert status == expected, (path, status)

    return request


def _content(size: int) -> ContentFile[bytes]:
    from django.core.files.base import ContentFile

    return ContentFile(os.urandom(size))
