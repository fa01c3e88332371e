"""``hatch run bench:all``: run every benchmark, print its table, write docs/performance/."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from . import emulator_throughput
from .support import machine

OUT = Path(__file__).resolve().parents[2] / "docs" / "performance"


def main() -> None:
    """Run the benchmarks (``--quick`` for tiny sizes, as the smoke test does)."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no files written")
    args = parser.parse_args()
    size, repeat = (2, 1) if args.quick else (100, 3)
    text, _rows = emulator_throughput.run(size_mb=size, repeat=repeat)
    report = (
        f"## Local B2 server throughput\n\nMeasured {date.today()} on {machine()}.\n"
        f"Command: `hatch run bench:all`.\n\n{text}\n"
    )
    print(report)
    if not args.quick:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "emulator.md").write_text(report)


if __name__ == "__main__":
    main()
