"""The benchmark report: one combined table, every section, the machine and the command."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from .support import Section, machine, table, versions

COMMAND = "hatch run bench:all"


def combined(sections: Sequence[Section]) -> str:
    """Return the combined table: each key figure of ours beside its floor or peer."""
    headers = ["measure", "ours", "floor / peer", "ratio", "contract", "verdict"]
    rows = [
        [s.measure, s.ours, s.other, s.ratio, s.contract or "-", s.verdict or "-"]
        for section in sections
        for s in section.summary
    ]
    return "## Summary\n\n" + table(headers, rows)


def shortfalls(sections: Sequence[Section]) -> str:
    """Return the section that lists every contract line our numbers miss, and why."""
    missed = [line for section in sections for line in section.shortfalls]
    body = (
        "\n".join(f"- {line}" for line in missed)
        if missed
        else (
            "None: every line of the contract that these benchmarks measure is met on this machine."
        )
    )
    return "## Where we fall short of the performance contract\n\n" + body


REPRODUCE = """## Reproduce

<!-- doc: covered-by tests/test_bench_smoke.py -->
```console
$ hatch run bench:all --quick   # tiny sizes in ~20 s (the smoke test)
```

<!-- doc: console -->
```console
$ hatch run bench:all --quick --only url   # or downloads, calls, memory, throughput, redirects
```

`hatch run bench:all` with no option runs every benchmark at full size and writes this page and
its charts (about 15 minutes).

`--quick` and `--only` print their tables and write nothing unless given `--out DIR`.

Optional system tools: `wrk` (the load generator; without it a Python asyncio client is used)
and `redis-server` (the 4-process rows; skipped with a note without it), both from Debian
(`apt-get install wrk redis-server`). The memory benchmark saves and reads a 1 GiB file and the
seed holds all of it in memory: about 3 GiB of free RAM and 5 GiB of disk are needed
(`BENCH_MEMORY_MIB=256` makes the file smaller). Numbers move with the machine's load: run on a
quiet machine and compare ratios, not absolute figures, across machines.
"""


def render(
    sections: Sequence[Section],
    *,
    quick: bool,
    elapsed: float,
    partial: bool,
    load: tuple[float, float],
) -> str:
    """Return ``docs/performance/README.md``."""
    run = "`--quick` (tiny sizes: not representative)" if quick else "full sizes"
    subset = " (a subset of the benchmarks)" if partial else ""
    parts = [
        "# Performance\n",
        f"Measured {date.today()} on {machine()}, load average {load[0]:.2f} at the start "
        f"and {load[1]:.2f} at the end (other processes share the CPUs); "
        f"{versions()}.\n",
        f"Command: `{COMMAND}` (`python -m tests.bench`), {run}{subset}, {elapsed:.0f} s. "
        "Every figure comes from the same run, against the same local B2 server (a child "
        "process on 127.0.0.1); the contract is in the design document's "
        '"Performance contract" section. Ratios are ours divided by the floor or peer.\n',
        combined(sections) + "\n",
        shortfalls(sections) + "\n",
    ]
    parts += [f"## {section.title}\n\n{section.markdown}\n" for section in sections]
    parts.append(REPRODUCE)
    return "\n".join(parts)


def write(out: Path, text: str, sections: Sequence[Section]) -> None:
    """Write the report (the charts are already written beside it)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "README.md").write_text(text)
    for section in sections:
        for name, extra in section.extra_files.items():
            (out / name).write_text(extra)
