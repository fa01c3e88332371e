"""3. B2 calls per 1,000 downloads of 100 distinct files by 10 users, counted per API by an
in-process local B2 server: file and bucket token scope, cold and warm token caches, one
process; 4 processes sharing Redis; a burst of 10 threads on one cold link; and
django-backblaze-b2's proxy for the same downloads."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from b2_storage.emulator import LocalB2

from .djangoapp import HAS_SEED, Wsgi, login_cookies, point_seed_at
from .support import ROOT, Section, Summary, ratio, redis_server, table, verdict

if TYPE_CHECKING:
    from .__main__ import Context

BUCKET = "bench-calls"
PROCESSES = 4
BURST = 10
API_ORDER = (
    "b2_authorize_account",
    "b2_list_buckets",
    "b2_get_download_authorization",
    "b2_get_file_info_by_name",
    "b2_download_file_by_name",
)


def plan(files: int, users: int, downloads: int) -> list[tuple[int, int]]:
    """Return ``downloads`` (user, file) pairs: every file equally often, in a fixed shuffle."""
    pairs = [(i % users, (i * 37) % files) for i in range(downloads)]
    random.Random(7).shuffle(pairs)
    return pairs


def clear_tokens() -> None:
    """Forget this process's B2 download tokens, and the shared cache's."""
    from django.core.cache import caches

    from b2_access.resolver import shared_authorizer

    shared_authorizer().clear()
    caches["default"].clear()


def download_all(
    wsgi: Wsgi,
    pairs: list[tuple[int, int]],
    links: list[str],
    cookies: list[str],
    expected: int = 302,
) -> None:
    """Request every (user, file) link of ``pairs``; each must get ``expected``."""
    for user, index in pairs:
        status, _, _ = wsgi.get(links[index], cookies[user])
        assert status == expected, (status, links[index])


def burst(wsgi: Wsgi, link: str, cookies: list[str]) -> None:
    """``BURST`` threads request the same link at the same moment."""
    barrier = threading.Barrier(BURST)
    statuses: list[int] = []

    def one(cookie: str) -> None:
        barrier.wait()
        statuses.append(wsgi.get(link, cookie)[0])

    threads = [
        threading.Thread(target=one, args=(cookies[i % len(cookies)],)) for i in range(BURST)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * BURST, statuses


class Workers:
    """``PROCESSES`` Django processes (tests.bench.token_worker) sharing a Redis cache."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.processes = []
        for index in range(PROCESSES):
            env = {**os.environ, "BENCH_WORKER": json.dumps({**config, "index": index})}
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.bench.token_worker"],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        try:
            for process in self.processes:
                self._expect(process, "ready")
        except BaseException:
            for process in self.processes:
                process.kill()
                process.wait()
            raise

    @staticmethod
    def _expect(process: subprocess.Popen[str], word: str) -> None:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if line != word:
            process.kill()
            raise RuntimeError(f"token worker said {line!r}, not {word!r}")

    def run(self, command: str) -> None:
        """Send ``command`` to every worker at once; wait until each is done."""
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(command + "\n")
            process.stdin.flush()
        for process in self.processes:
            self._expect(process, "done")

    def close(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=60)
            if process.stdout is not None:
                process.stdout.close()


def run(ctx: Context) -> Section:
    """Measure and return the section."""
    from django.core.files.base import ContentFile

    from b2_access import LoggedInStorage

    files, users, downloads = (10, 10, 100) if ctx.quick else (100, 10, 1_000)
    pairs = plan(files, users, downloads)
    rows: list[tuple[str, str, Mapping[str, int]]] = []
    notes: list[str] = []
    with LocalB2(buckets=[BUCKET]) as server:
        options = server.storage_options(BUCKET)
        storages = {scope: LoggedInStorage(**options, scope=scope) for scope in ("file", "bucket")}
        names = [
            storages["file"].save(f"calls/file-{i:03}.txt", ContentFile(os.urandom(1000)))
            for i in range(files)
        ]
        for storage in storages.values():  # as a running site: bucket found, account authorized
            _ = storage.client.bucket
        cookies = login_cookies(users, "caller")
        wsgi = Wsgi()
        for scope, storage in storages.items():
            links = [storage.url(name) for name in names]
            clear_tokens()
            for phase in ("cold", "warm"):
                server.reset_calls()
                download_all(wsgi, pairs, links, cookies)
                rows.append((f"1 process, scope={scope}", phase, server.calls))
        clear_tokens()
        server.reset_calls()
        burst(wsgi, storages["file"].url(names[0]), cookies)
        rows.append((f"1 process, {BURST} threads at once on one link", "cold", server.calls))
        if HAS_SEED:
            point_seed_at(server.realm, server.application_key_id, server.application_key, BUCKET)
            server.reset_calls()
            download_all(wsgi, pairs, [f"/b2l/{name}" for name in names], cookies, 200)
            rows.append(("django-backblaze-b2 /b2l/ proxy", "(none)", server.calls))
        with redis_server() as redis_url:
            if redis_url is None:
                notes.append(
                    "The 4-process rows were skipped: `redis-server` is not installed "
                    "(`apt-get install redis-server`)."
                )
            else:
                rows += _shared(server, redis_url, ctx, options, names, cookies, pairs)
    return _section(rows, notes, files, users, downloads)


def _shared(
    server: LocalB2,
    redis_url: str,
    ctx: Context,
    options: dict[str, Any],
    names: list[str],
    cookies: list[str],
    pairs: list[tuple[int, int]],
) -> list[tuple[str, str, Mapping[str, int]]]:
    import redis

    rows: list[tuple[str, str, Mapping[str, int]]] = []
    config = {
        "options": options,
        "database": str(ctx.database),
        "redis": redis_url,
        "names": names,
        "cookies": cookies,
        "pairs": pairs,
        "processes": PROCESSES,
    }
    server.reset_calls()
    workers = Workers(config)
    rows.append(
        (f"{PROCESSES} processes start (each authorizes, finds the bucket)", "-", server.calls)
    )
    tokens = redis.Redis.from_url(f"{redis_url}/0")
    try:
        for scope in ("file", "bucket"):
            for phase in ("cold", "warm"):
                if phase == "cold":
                    tokens.flushdb()
                server.reset_calls()
                workers.run(f"{scope} {phase}")
                rows.append((f"{PROCESSES} processes + Redis, scope={scope}", phase, server.calls))
    finally:
        tokens.close()
        workers.close()
    return rows


def _section(
    rows: list[tuple[str, str, Mapping[str, int]]],
    notes: list[str],
    files: int,
    users: int,
    downloads: int,
) -> Section:
    seen = Counter[str]()
    for _, _, calls in rows:
        seen.update({api: 1 for api, count in calls.items() if count})
    apis = [api for api in API_ORDER if api in seen] + sorted(set(seen) - set(API_ORDER))
    headers = ["scenario", "token cache", *apis, "total"]
    body = [
        [scenario, phase, *(f"{calls.get(api, 0):,}" for api in apis), f"{sum(calls.values()):,}"]
        for scenario, phase, calls in rows
    ]
    auth = {
        (scenario, phase): calls.get("b2_get_download_authorization", 0)
        for scenario, phase, calls in rows
    }
    text = (
        f"{table(headers, body)}\n\n{downloads:,} downloads of {files} distinct files by {users} "
        f"logged-in users, in a fixed shuffled order; each row counts the B2 API calls Django "
        f"made (the local B2 server's counters). Ours answers with the 302 only: the browser's "
        f"own download from B2 (one `b2_download_file_by_name` each) comes on top, for every "
        f'design. "cold": empty token caches (this process\'s and the shared one), the account '
        f'already authorized; "warm": the same downloads again. The {PROCESSES} processes each '
        f"take a quarter of the downloads, all at once, sharing B2 tokens and the account "
        f"through Redis. The seed's `b2_download_file_by_name` count includes the HEAD request "
        f"with which b2sdk answers `get_file_info_by_name` (once per file per minute: the "
        f"seed caches file info for 60 s)."
    )
    if notes:
        text += "\n\n" + "\n".join(notes)
    summary, shortfalls = [], []
    cold_file = auth.get(("1 process, scope=file", "cold"), 0)
    warm = [count for (scenario, phase), count in auth.items() if phase == "warm"]
    summary.append(
        Summary(
            f"Token calls (b2_get_download_authorization) per {downloads:,} downloads, file "
            "scope, cold / warm",
            f"{cold_file} / {warm[0] if warm else '-'}",
            f"{files} files",
            "-",
            f"<= {files} / 0",
            verdict(cold_file <= files and not any(warm)),
        )
    )
    cold_bucket = auth.get(("1 process, scope=bucket", "cold"), 0)
    summary.append(
        Summary(
            f"Token calls per {downloads:,} downloads, bucket scope, cold",
            str(cold_bucket),
            "1 bucket",
            "-",
            "<= 1",
            verdict(cold_bucket <= 1),
        )
    )
    burst_calls = auth.get((f"1 process, {BURST} threads at once on one link", "cold"), 0)
    summary.append(
        Summary(
            f"Token calls, a burst of {BURST} threads on one cold link",
            str(burst_calls),
            "-",
            "-",
            "<= 1 per process",
            verdict(burst_calls <= 1),
        )
    )
    shared = auth.get((f"{PROCESSES} processes + Redis, scope=file", "cold"))
    if shared is not None:
        ok = shared <= files * PROCESSES
        extra = max(0, shared - files)
        summary.append(
            Summary(
                f"Token calls per {downloads:,} downloads, {PROCESSES} processes sharing Redis, "
                "file scope, cold",
                str(shared),
                f"{files} files",
                "-",
                f"<= {files} (+ <= 1 per process in a burst)",
                verdict(ok)
                + (f" ({extra} extra: files fetched by 2 processes at once)" if extra else ""),
            )
        )
        if not ok:
            shortfalls.append(
                f"{PROCESSES} processes sharing Redis made {shared} token calls for {files} files."
            )
    seed = [calls for scenario, _, calls in rows if scenario.startswith("django-backblaze-b2")]
    ours_total = sum(next(calls for scenario, phase, calls in rows if phase == "cold").values())
    if seed:
        summary.append(
            Summary(
                f"All B2 calls by Django per {downloads:,} downloads: ours (file scope, cold) "
                "vs the seed's proxy",
                f"{ours_total:,}",
                f"{sum(seed[0].values()):,}",
                ratio(ours_total, sum(seed[0].values())),
            )
        )
    if cold_file > files or any(warm):
        shortfalls.append(f"Token calls: {cold_file} cold for {files} files, {warm} warm.")
    if cold_bucket > 1 or burst_calls > 1:
        shortfalls.append(f"Bucket scope made {cold_bucket} token calls, a burst {burst_calls}.")
    return Section("calls", "3. B2 calls per 1,000 downloads", text, summary, [], shortfalls)
