"""``hatch run bench:all``: run every benchmark against one local B2 server, print the tables
and one combined table, and write them with charts to ``docs/performance/``.

``--quick`` runs tiny sizes (the smoke test); ``--only url,downloads`` runs a subset (names:
see ``BENCHMARKS``). Either writes nothing unless ``--out DIR`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from . import (
    download_time,
    memory,
    redirects,
    report,
    throughput,
    token_calls,
    url_cost,
)
from .djangoapp import migrate, setup
from .support import ROOT, Section, Server, local_b2_process

OUT = ROOT / "docs" / "performance"
BUCKET = "bench-files"
BENCHMARKS: dict[str, ModuleType] = {
    "url": url_cost,
    "downloads": download_time,
    "calls": token_calls,
    "memory": memory,
    "throughput": throughput,
    "redirects": redirects,
}


@dataclass
class Context:
    """What every benchmark gets: the shared local B2 server, sizes, and where to write."""

    quick: bool
    server: Server
    bucket: str
    tmp: Path
    database: Path
    out: Path | None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (writes nothing without --out)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write (default docs/performance/ for a full run of everything)",
    )
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    chosen = list(BENCHMARKS) if not args.only else args.only.split(",")
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    out = args.out if args.out is not None else (None if args.quick or args.only else OUT)
    load = os.getloadavg()[0]
    started = time.monotonic()
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="b2-bench-") as tmp, local_b2_process(BUCKET) as server:
        database = Path(tmp) / "bench.sqlite3"
        setup(database=str(database))
        migrate()
        ctx = Context(args.quick, server, BUCKET, Path(tmp), database, out)
        for name in chosen:
            print(f"-- running {name} ...", file=sys.stderr, flush=True)
            section = BENCHMARKS[name].run(ctx)
            print(f"\n## {section.title}\n\n{section.markdown}\n", flush=True)
            sections.append(section)
    elapsed = time.monotonic() - started
    text = report.render(
        sections,
        quick=args.quick,
        elapsed=elapsed,
        partial=bool(args.only),
        load=(load, os.getloadavg()[0]),
    )
    print(report.combined(sections))
    if out is not None:
        report.write(out, text, sections)
        print(f"\nWrote {out / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
