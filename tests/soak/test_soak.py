"""Load and soak (issue 13): ``uvicorn --workers 4`` serving the soak site (Redis-shared B2
tokens and account, SQLite users and sessions), a local B2 server in its own process, a bounded
loopback load of signed links of a few hundred files of three tiers (and links that must be
refused: tampered, expired, wrong tier, bound to another user, deleted files), while another
process saves, reads and deletes files through the same storages.

At the end: no 5xx and no wrong verdict; every surviving file's link leads to B2 and its bytes
have the SHA1 they were saved with; ``b2_get_download_authorization`` calls within the contract
(at most one per token prefix per handed-out window, across the 4 processes); and the workers'
RSS and open file descriptors flat over the second half of the run.

Length: ``SOAK_SECONDS`` (default 150 with ``CI`` set, else 40); ``SOAK_SECONDS=3600 hatch run
test tests/soak -s`` soaks for an hour. ``SOAK_RATE`` caps the load (requests/s, default 150).
``SOAK_CACHE_BACKEND`` replaces Django's ``RedisCache`` in the site's ``CACHES`` (a dotted path)
to compare another backend.
The summary is printed and written to ``test-artifacts/soak/summary.{txt,json}``.
No throughput is asserted: the machine may be busy.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from tests.services import free_port

from .load import Load, Pool, Tally, verify_all
from .processes import ROOT, Proc
from .procstats import MiB, Sampler

T = TypeVar("T")

pytestmark = pytest.mark.soak

BUCKET = "soak-files"
WORKERS = 4
SEED = {"public": 120, "logged_in": 120, "staff": 60}
RSS_BOUND = 10 * MiB  # growth over the second half, per worker
FDS_BOUND = 10
HANDOUT_SECONDS = 900 - 600  # B2_ACCESS defaults: token_lifetime - min_remaining
STARTUP_SECONDS = 180.0  # a busy 2-core machine starts 4 Django workers slowly
ARTIFACTS = ROOT / "test-artifacts" / "soak"
AUTH = "b2_get_download_authorization"


def soak_seconds() -> float:
    """Return the length of the load: ``SOAK_SECONDS``, else 150 s in CI, 40 s elsewhere."""
    return float(os.environ.get("SOAK_SECONDS") or (150 if os.environ.get("CI") else 40))


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "tests.soak.settings"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


@contextmanager
def started(proc: Proc) -> Iterator[Proc]:
    try:
        yield proc
    finally:
        proc.stop()


class B2Calls:
    """The local B2 server's per-API call counters, asked over its control pipe."""

    def __init__(self, proc: Proc) -> None:
        self.proc = proc

    def __call__(self) -> Counter[str]:
        self.proc.send("calls")
        return Counter(self.proc.next_json(30))


def worker_pids(lines: list[str]) -> list[int]:
    found = (re.search(r"Started server process \[(\d+)\]", line) for line in lines)
    return [int(match.group(1)) for match in found if match]


def start_uvicorn(port: int, env: dict[str, str], log: Path) -> tuple[Proc, list[int]]:
    """Start ``uvicorn --workers 4``; return it once every worker has started, and their pids."""
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.soak.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--no-access-log",
        "--log-level",
        "info",
    ]
    server = Proc("uvicorn", args, env, log)
    seen: list[str] = []
    try:
        while sum("Application startup complete" in line for line in seen) < WORKERS:
            seen.append(server.next_line(STARTUP_SECONDS, "4 started workers"))
    except BaseException:
        server.stop()
        raise
    server.on_line = lambda line: None  # the tail and the log keep it
    return server, worker_pids(seen)


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` in a thread of its own: this worker's thread may already run an event
    loop (Playwright's sync API leaves one running), where ``asyncio.run`` is refused."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_soak(redis_url: str, tmp_path: Path) -> None:
    seconds = soak_seconds()
    rate = float(os.environ.get("SOAK_RATE") or 150)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    events: Counter[str] = Counter()
    with ExitStack() as stack:
        b2 = stack.enter_context(
            started(
                Proc(
                    "local B2",
                    [sys.executable, "-m", "tests.soak.b2_child", BUCKET],
                    child_env(),
                    ARTIFACTS / "b2.log",
                )
            )
        )
        account = b2.next_json(60)
        calls = B2Calls(b2)
        site = {
            **account,
            "bucket": BUCKET,
            "redis": redis_url,
            "database": str(tmp_path / "soak.sqlite3"),
            "link_seconds": int(seconds) + 900,
            "cache_backend": os.environ.get("SOAK_CACHE_BACKEND"),
        }
        env = child_env(SOAK_SITE=json.dumps(site))
        plan = {"seed": SEED, "link_seconds": site["link_seconds"]}
        churn = stack.enter_context(
            started(
                Proc(
                    "storage process",
                    [sys.executable, "-m", "tests.soak.churn", json.dumps(plan)],
                    env,
                    ARTIFACTS / "storage.log",
                )
            )
        )
        manifest = churn.next_json(STARTUP_SECONDS, "manifest")
        port = free_port()
        server, pids = start_uvicorn(port, env, ARTIFACTS / "uvicorn.log")
        stack.callback(server.stop)
        assert len(pids) == WORKERS, server.output()

        seed = {tier: [f for f in manifest["files"] if f["tier"] == tier] for tier in SEED}
        pool = Pool(manifest["cookies"], seed, manifest["bound"], manifest["expired"])

        def dispatch(line: str) -> None:
            event = json.loads(line) if line.startswith("{") else {"event": "output"}
            events[event["event"]] += 1
            if event["event"] in ("live", "gone", "deleting"):
                pool.on_event(event)
            elif event["event"] == "error":
                errors.append(event["message"])
            elif event["event"] == "stopped":
                churn.lines.put(line)

        churn.on_line = dispatch
        churn.send("go")
        names = {
            urlsplit(redis_url).port: "redis",
            urlsplit(account["realm"]).port: "b2",
            port: "clients",
        }
        sampler = Sampler(pids, max(1.0, seconds / 40), names).start()
        load = Load(port, pool, account["realm"], BUCKET, rate=rate)
        tally = run_apart(load.run(seconds))
        sampler.stop()
        churn.send("stop")
        stopped = churn.next_json(120, "stopped")
        b2_calls = calls()  # before the check below, which fetches tokens for the survivors
        survivors = stopped["live"]
        problems = run_apart(
            verify_all(
                port, survivors, manifest["cookies"], urlsplit(account["realm"]).netloc, BUCKET
            )
        )
        uvicorn_output = server.output()

    judge_late_404s(tally, pool)
    windows = 1 + math.floor((seconds + 60) / HANDOUT_SECONDS)
    auth_bound = len(tally.token_keys) * windows
    summary = report(
        seconds,
        rate,
        tally,
        stopped["counts"],
        b2_calls,
        auth_bound,
        windows,
        len(survivors),
        sampler,
        pids,
    )
    print(summary["line"])

    assert not tally.transport_errors, tally.transport_errors[:10]
    assert tally.server_errors == 0, f"{tally.server_errors} unexpected 5xx; {summary['line']}"
    assert tally.wrong_count == 0, "\n".join(tally.wrong)
    assert not errors and stopped["counts"]["errors"] == 0, "\n".join(errors[:5])
    assert not problems, problems[:20]
    assert not tally.follow_failures, tally.follow_failures[:20]
    assert 0 < b2_calls[AUTH] <= auth_bound, summary["line"]
    for pid in pids:
        assert pid not in sampler.vanished, f"worker {pid} died:\n{uvicorn_output}"
        rss, fds = sampler.growth(pid, "rss", seconds), sampler.growth(pid, "fds", seconds)
        assert rss[3] <= RSS_BOUND, f"worker {pid} RSS grew {rss[3] / MiB:.1f} MiB: {rss}"
        assert fds[3] <= FDS_BOUND, (
            f"worker {pid}: open fds grew by {fds[3]} over the second half (start/mid/end "
            f"{fds[:3]}; at the end: {sampler.kinds(pid)})"
        )
    assert "Traceback" not in uvicorn_output and " died" not in uvicorn_output, uvicorn_output


def judge_late_404s(tally: Tally, pool: Pool) -> None:
    """A fresh file's link may answer 404 only once its deletion had begun."""
    for name, answered_at in tally.late_404s:
        began = pool.deleting_at.get(name)
        if began is None or answered_at < began:
            tally.wrong_verdict(f"fresh {name}: 404 before its deletion began")


def report(
    seconds: float,
    rate: float,
    tally: Tally,
    counts: dict[str, int],
    b2_calls: Counter[str],
    auth_bound: int,
    windows: int,
    survivors: int,
    sampler: Sampler,
    pids: list[int],
) -> dict[str, Any]:
    """Return the figures of the run (and one line of them), written to test-artifacts/soak."""
    memory = {pid: sampler.growth(pid, "rss", seconds) for pid in pids}
    fds = {pid: sampler.growth(pid, "fds", seconds) for pid in pids}

    def mib(values: tuple[int, ...]) -> str:
        return "/".join(f"{v / MiB:.1f}" for v in values[:3])

    verdicts = ", ".join(f"{k} {v:,}" for k, v in sorted(tally.verdicts.items()))
    line = (
        f"soak {seconds:.0f} s, uvicorn {WORKERS} workers + Redis: {tally.requests:,} requests "
        f"({tally.requests / seconds:,.0f}/s, cap {rate:.0f}/s): {verdicts}; 5xx "
        f"{tally.server_errors}, wrong verdicts {tally.wrong_count}, followed to B2 "
        f"{tally.followed}; storage: {counts['uploads']:,} uploads, {counts['reads']:,} reads, "
        f"{counts['deletes']:,} deletes; B2 calls: {AUTH} {b2_calls[AUTH]:,} (bound "
        f"{auth_bound:,} = {len(tally.token_keys):,} token prefixes x {windows} window), "
        f"b2_list_file_names {b2_calls['b2_list_file_names']:,}, all {sum(b2_calls.values()):,}; "
        f"{survivors} surviving files SHA1-verified via their links; RSS MiB start/mid/end "
        + "; ".join(mib(v) for v in memory.values())
        + "; fds start/mid/end "
        + "; ".join("/".join(map(str, v[:3])) for v in fds.values())
    )
    figures = {
        "seconds": seconds,
        "rate_cap": rate,
        "requests": tally.requests,
        "verdicts": dict(tally.verdicts),
        "scenarios": dict(tally.scenarios),
        "server_errors": tally.server_errors,
        "wrong_verdicts": tally.wrong_count,
        "followed": tally.followed,
        "storage": counts,
        "b2_calls": dict(b2_calls),
        "auth_bound": auth_bound,
        "token_prefixes": len(tally.token_keys),
        "survivors_verified": survivors,
        "rss_bytes": {str(p): v for p, v in memory.items()},
        "fds": {str(p): v for p, v in fds.items()},
        "line": line,
        "fd_kinds_at_end": {str(p): sampler.kinds(p) for p in pids},
        "samples": [{"at": round(x.at, 1), "rss": x.rss, "fds": x.fds} for x in sampler.samples],
    }
    (ARTIFACTS / "summary.txt").write_text(line + "\n")
    (ARTIFACTS / "summary.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures
