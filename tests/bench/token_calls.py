"""3. B2 calls per 1,000 downloads of 100 distinct files by 10 users, counted per API by an
in-process local B2 server: file and bucket token scope and the folder-per-file layout, cold and
warm token caches, one process; 4 processes sharing Redis; a burst of 10 threads on one cold
link; django-backblaze-b2's proxy for the same downloads; and the B2 calls of each single click,
cold and warm."""

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
LIST = "b2_list_file_names"  # the seal check of a file-scope token
TOKEN = "b2_get_download_authorization"
FOLDER_LOCATION = "per-file"
# The storages measured: key -> (the label in the tables, extra LoggedInStorage options). Each
# has a location of its own, as a site must give them (system checks E010, E011 and E017): a
# bucket scope's token covers its location, and would otherwise cover the others' files (then
# its links get one file's token each).
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "file": ("scope=file", {"scope": "file", "location": "flat"}),
    "bucket": ("scope=bucket", {"scope": "bucket", "location": "scoped"}),
    "folder": (
        "scope=file, layout=folder-per-file",
        {"scope": "file", "layout": "folder-per-file", "location": FOLDER_LOCATION},
    ),
}
API_ORDER = (
    "b2_authorize_account",
    "b2_list_buckets",
    "b2_list_file_names",
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


def clicks(server: LocalB2, wsgi: Wsgi, links: list[str], cookie: str) -> list[Counter[str]]:
    """Follow each link once; return the B2 calls (per API) that each click made."""
    made = []
    for link in links:
        server.reset_calls()
        status, _, _ = wsgi.get(link, cookie)
        assert status == 302, (status, link)
        made.append(Counter(server.calls))
    return made


def run(ctx: Context) -> Section:
    """Measure and return the section."""
    from django.core.files.base import ContentFile

    from b2_access import LoggedInStorage

    files, users, downloads = (10, 10, 100) if ctx.quick else (100, 10, 1_000)
    pairs = plan(files, users, downloads)
    rows: list[tuple[str, str, Mapping[str, int]]] = []
    per_click: dict[tuple[str, str], list[Counter[str]]] = {}
    notes: list[str] = []
    with LocalB2(buckets=[BUCKET]) as server:
        options = server.storage_options(BUCKET)
        storages = {
            key: LoggedInStorage(**{**options, **extra}) for key, (_, extra) in VARIANTS.items()
        }
        names = {  # calls/file-NNN.txt, or calls/<random folder>/file-NNN.txt
            key: [
                storage.save(f"calls/file-{i:03}.txt", ContentFile(os.urandom(1000)))
                for i in range(files)
            ]
            for key, storage in storages.items()
        }
        for storage in storages.values():  # as a running site: bucket found, account authorized
            _ = storage.client.bucket
        cookies = login_cookies(users, "caller")
        wsgi = Wsgi()
        links = {key: [storages[key].url(name) for name in names[key]] for key in VARIANTS}
        for key, (label, _) in VARIANTS.items():
            clear_tokens()
            for phase in ("cold", "warm"):
                server.reset_calls()
                download_all(wsgi, pairs, links[key], cookies)
                rows.append((f"1 process, {label}", phase, server.calls))
        clear_tokens()
        for key in ("file", "folder"):  # one click per file, each counted on its own
            per_click[key, "cold"] = clicks(server, wsgi, links[key], cookies[0])
            per_click[key, "warm"] = clicks(server, wsgi, links[key], cookies[0])
        clear_tokens()
        server.reset_calls()
        burst(wsgi, links["file"][0], cookies)
        rows.append((f"1 process, {BURST} threads at once on one link", "cold", server.calls))
        if HAS_SEED:
            point_seed_at(server.realm, server.application_key_id, server.application_key, BUCKET)
            server.reset_calls()
            seed_paths = [f"/b2l/{storages['file'].b2_name(name)}" for name in names["file"]]
            download_all(wsgi, pairs, seed_paths, cookies, 200)
            rows.append(("django-backblaze-b2 /b2l/ proxy", "(none)", server.calls))
        with redis_server() as redis_url:
            if redis_url is None:
                notes.append(
                    "The 4-process rows were skipped: `redis-server` is not installed "
                    "(`apt-get install redis-server`)."
                )
            else:
                rows += _shared(server, redis_url, ctx, options, names, cookies, pairs)
    return _section(rows, per_click, notes, files, users, downloads)


def _shared(
    server: LocalB2,
    redis_url: str,
    ctx: Context,
    options: dict[str, Any],
    names: dict[str, list[str]],
    cookies: list[str],
    pairs: list[tuple[int, int]],
) -> list[tuple[str, str, Mapping[str, int]]]:
    import redis

    rows: list[tuple[str, str, Mapping[str, int]]] = []
    config = {
        "options": options,
        "variants": {key: extra for key, (_, extra) in VARIANTS.items()},
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
        for key, (label, _) in VARIANTS.items():
            for phase in ("cold", "warm"):
                if phase == "cold":
                    tokens.flushdb()
                server.reset_calls()
                workers.run(f"{key} {phase}")
                rows.append((f"{PROCESSES} processes + Redis, {label}", phase, server.calls))
    finally:
        tokens.close()
        workers.close()
    return rows


def _span(values: list[int]) -> str:
    """Return ``"2"`` when every value is 2, else ``"min–max"``."""
    low, high = min(values, default=0), max(values, default=0)
    return str(high) if low == high else f"{low}–{high}"


def _click_table(per_click: dict[tuple[str, str], list[Counter[str]]]) -> str:
    headers = [
        "storage",
        "token cache",
        "clicks",
        LIST,
        TOKEN,
        "other B2 calls",
        "B2 calls per click",
    ]
    body = []
    for (key, phase), made in per_click.items():
        total = sum(made, Counter[str]())
        other = sum(total.values()) - total[LIST] - total[TOKEN]
        body.append(
            [
                VARIANTS[key][0],
                phase,
                f"{len(made):,}",
                f"{total[LIST]:,}",
                f"{total[TOKEN]:,}",
                f"{other:,}",
                _span([sum(calls.values()) for calls in made]),
            ]
        )
    return table(headers, body)


def _section(
    rows: list[tuple[str, str, Mapping[str, int]]],
    per_click: dict[tuple[str, str], list[Counter[str]]],
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
    by_row = {(scenario, phase): calls for scenario, phase, calls in rows}
    auth = {key: calls.get(TOKEN, 0) for key, calls in by_row.items()}
    lists = {key: calls.get(LIST, 0) for key, calls in by_row.items()}
    file_label, bucket_label, folder_label = (label for label, _ in VARIANTS.values())
    text = (
        f"{table(headers, body)}\n\n{downloads:,} downloads of {files} distinct files by {users} "
        f"logged-in users, in a fixed shuffled order; each row counts the B2 API calls Django "
        f"made (the local B2 server's counters). Ours answers with the 302 only: the browser's "
        f"own download from B2 (one `b2_download_file_by_name` each) comes on top, for every "
        f'design. "cold": empty token caches (this process\'s and the shared one), the account '
        f'already authorized and the bucket known; "warm": the same downloads again (B2 tokens '
        f"live 900 s and are handed out for 300 s, the defaults). A file-scope token is fetched "
        f"only after one `{LIST}` call (the seal check: no other live file's name extends this "
        f"one, since B2 tokens are name-prefix tokens), cached with the token; the bucket scope "
        f"and the folder-per-file layout (each file saved as `calls/<random folder>/file-NNN.txt`"
        f", the token covering its folder) need no seal check. The {PROCESSES} processes each "
        f"take a quarter of the downloads, all at once, sharing B2 tokens and the account "
        f"through Redis. The seed's `b2_download_file_by_name` count includes the HEAD request "
        f"with which b2sdk answers `get_file_info_by_name` (once per file per minute: the "
        f"seed caches file info for 60 s)."
    )
    if notes:
        text += "\n\n" + "\n".join(notes)
    text += (
        f"\n\nOne click at a time ({files} distinct files, one logged-in user, 1 process): the "
        f"B2 calls that each click made, every API the local B2 server counts, from an empty "
        f"token cache (cold) and then again (warm).\n\n{_click_table(per_click)}"
    )
    summary, shortfalls = [], []

    cold_clicks = {key: per_click[key, "cold"] for key in ("file", "folder")}
    for made in cold_clicks.values():  # a click that made no call was not cold: a bench bug
        assert all(sum(calls.values()) for calls in made), made
    file_clicks = [sum(calls.values()) for calls in cold_clicks["file"]]
    file_ok = all(
        calls[LIST] <= 1 and calls[TOKEN] <= 1 and sum(calls.values()) <= 2
        for calls in cold_clicks["file"]
    )
    summary.append(
        Summary(
            "B2 calls per cold click, file scope (seal check + token)",
            _span(file_clicks),
            "-",
            "-",
            "<= 2 (1 list + 1 token)",
            verdict(file_ok),
        )
    )
    folder_clicks = [sum(calls.values()) for calls in cold_clicks["folder"]]
    folder_ok = max(folder_clicks, default=0) <= 1
    summary.append(
        Summary(
            "B2 calls per cold click, folder-per-file layout (token only)",
            _span(folder_clicks),
            "-",
            "-",
            "1",
            verdict(folder_ok),
        )
    )
    warm_rows = [
        (scenario, calls) for (scenario, phase), calls in by_row.items() if phase == "warm"
    ]
    warm_made = [
        calls for key, phase in per_click if phase == "warm" for calls in per_click[key, phase]
    ]
    warm_count = downloads * len(warm_rows) + len(warm_made)
    warm_calls = sum(sum(calls.values()) for _, calls in warm_rows) + sum(
        sum(calls.values()) for calls in warm_made
    )
    summary.append(
        Summary(
            f"B2 calls per warm click ({warm_count:,} warm clicks: every scope, layout and "
            "process count above)",
            "0" if not warm_calls else f"{warm_calls / warm_count:.4f} ({warm_calls:,} calls)",
            "-",
            "-",
            "0",
            verdict(not warm_calls),
        )
    )
    cold_file = auth.get((f"1 process, {file_label}", "cold"), 0)
    warm_file = auth.get((f"1 process, {file_label}", "warm"), 0)
    warm_tokens = [count for (_, phase), count in auth.items() if phase == "warm"]
    summary.append(
        Summary(
            f"Token calls ({TOKEN}) per {downloads:,} downloads, file scope, cold / warm",
            f"{cold_file} / {warm_file}",
            f"{files} files",
            "-",
            f"<= {files} / 0",
            verdict(cold_file <= files and not any(warm_tokens)),
        )
    )
    list_cold = lists.get((f"1 process, {file_label}", "cold"), 0)
    list_warm = lists.get((f"1 process, {file_label}", "warm"), 0)
    list_ok = list_cold <= min(files, cold_file) and not any(
        count for (_, phase), count in lists.items() if phase == "warm"
    )
    summary.append(
        Summary(
            f"Seal checks ({LIST}) per {downloads:,} downloads, file scope, cold / warm",
            f"{list_cold} / {list_warm}",
            f"{files} files",
            "-",
            f"<= 1 per token call ({cold_file}) / 0",
            verdict(list_ok),
        )
    )
    folder_tokens = auth.get((f"1 process, {folder_label}", "cold"), 0)
    folder_lists = lists.get((f"1 process, {folder_label}", "cold"), 0)
    summary.append(
        Summary(
            f"Token calls / seal checks per {downloads:,} downloads, folder-per-file layout, cold",
            f"{folder_tokens} / {folder_lists}",
            f"{files} files",
            "-",
            f"<= {files} / 0",
            verdict(folder_tokens <= files and not folder_lists),
        )
    )
    cold_bucket = auth.get((f"1 process, {bucket_label}", "cold"), 0)
    bucket_lists = lists.get((f"1 process, {bucket_label}", "cold"), 0)
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
    burst_key = (f"1 process, {BURST} threads at once on one link", "cold")
    burst_calls, burst_lists = auth.get(burst_key, 0), lists.get(burst_key, 0)
    summary.append(
        Summary(
            f"Token calls / seal checks, a burst of {BURST} threads on one cold link",
            f"{burst_calls} / {burst_lists}",
            "-",
            "-",
            "<= 1 per process",
            verdict(burst_calls <= 1 and burst_lists <= 1),
        )
    )
    shared_key = (f"{PROCESSES} processes + Redis, {file_label}", "cold")
    shared = auth.get(shared_key)
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
        shared_lists = lists.get(shared_key, 0)
        summary.append(
            Summary(
                f"Seal checks per {downloads:,} downloads, {PROCESSES} processes sharing Redis, "
                "file scope, cold",
                str(shared_lists),
                f"{files} files",
                "-",
                f"<= 1 per token call ({shared})",
                verdict(shared_lists <= shared),
            )
        )
        if not ok:
            shortfalls.append(
                f"{PROCESSES} processes sharing Redis made {shared} token calls for {files} files."
            )
        if shared_lists > shared:
            shortfalls.append(
                f"{PROCESSES} processes sharing Redis made {shared_lists} seal checks for "
                f"{shared} token calls."
            )
    seed = [calls for scenario, _, calls in rows if scenario.startswith("django-backblaze-b2")]
    if seed:
        seed_total = sum(seed[0].values())
        for label, what in ((file_label, "file scope"), (folder_label, "folder-per-file")):
            ours_total = sum(by_row[f"1 process, {label}", "cold"].values())
            summary.append(
                Summary(
                    f"All B2 calls by Django per {downloads:,} downloads: ours ({what}, cold) "
                    "vs the seed's proxy",
                    f"{ours_total:,}",
                    f"{seed_total:,}",
                    ratio(ours_total, seed_total),
                )
            )
    if not file_ok:
        shortfalls.append(
            f"A cold file-scope click made {_span(file_clicks)} B2 calls (contract: 2, one "
            f"{LIST} and one {TOKEN})."
        )
    if not folder_ok:
        shortfalls.append(
            f"A cold click in the folder-per-file layout made {_span(folder_clicks)} B2 calls "
            "(contract: 1)."
        )
    if warm_calls:
        shortfalls.append(f"{warm_count:,} warm clicks made {warm_calls:,} B2 calls (contract 0).")
    if cold_file > files or any(warm_tokens):
        shortfalls.append(f"Token calls: {cold_file} cold for {files} files, {warm_tokens} warm.")
    if not list_ok:
        shortfalls.append(
            f"Seal checks: {list_cold} cold for {cold_file} token calls, {list_warm} warm."
        )
    if folder_tokens > files or folder_lists:
        shortfalls.append(
            f"Folder-per-file: {folder_tokens} token calls and {folder_lists} seal checks "
            f"for {files} files."
        )
    if cold_bucket > 1 or bucket_lists or burst_calls > 1 or burst_lists > 1:
        shortfalls.append(
            f"Bucket scope made {cold_bucket} token calls ({bucket_lists} seal checks), a burst "
            f"{burst_calls} ({burst_lists})."
        )
    return Section("calls", "3. B2 calls per 1,000 downloads", text, summary, [], shortfalls)
