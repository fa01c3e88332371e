"""The doctor's findings as a table for people, or JSON for programs."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Callable, Sequence

from .findings import ERROR, OK, SKIP, WARN, Finding

HEADERS = ("STORAGE", "CHECK", "STATUS", "DETAIL")
WIDTH = 110  # characters per line; details wrap under their column


def as_json(findings: Sequence[Finding]) -> str:
    """Return the findings as a JSON list of objects (storage, check, status, detail)."""
    return json.dumps([f.as_dict() for f in findings], indent=2)


def as_table(findings: Sequence[Finding], paint: Callable[[str, str], str] | None = None) -> str:
    """Return the findings as an aligned table, the status painted by ``paint(status, text)``."""
    rows = [(f.storage, f.check, f.status, f.detail) for f in findings]
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(3)]
    indent = sum(widths) + 3 * 2
    detail_width = max(40, WIDTH - indent)
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, [*widths, 0], strict=True)).rstrip()]
    for storage, check, status, detail in rows:
        wrapped = textwrap.wrap(detail, detail_width) or [""]
        shown = status.ljust(widths[2])
        cells = [
            storage.ljust(widths[0]),
            check.ljust(widths[1]),
            paint(status, shown) if paint else shown,
        ]
        lines.append("  ".join([*cells, wrapped[0]]).rstrip())
        lines.extend(" " * indent + more for more in wrapped[1:])
    return "\n".join(lines)


def summary(findings: Sequence[Finding]) -> str:
    """Return one line: how many storages and checks, and how many of each status."""
    counts = Counter(f.status for f in findings)
    storages = len({f.storage for f in findings})
    tally = ", ".join(f"{counts[s]} {s}" for s in (OK, WARN, ERROR, SKIP) if counts[s])
    return f"{storages} storage{'s' * (storages != 1)}, {len(findings)} checks: {tally}."
