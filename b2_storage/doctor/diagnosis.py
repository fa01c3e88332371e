"""Run the doctor's checks over a project's B2 storages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .examine import examine
from .findings import ERROR, SKIP, Finding
from .probe import Prober
from .roundtrip import CHECK, round_trip
from .targets import Target

# A round trip needs these to have passed (a missing capability shows in the round trip itself).
PREREQUISITES = ("credentials", "key bucket", "key prefix", "bucket")


def diagnose(
    targets: Iterable[Target],
    *,
    write: bool = False,
    user: Any = None,
    prober: Prober | None = None,
) -> list[Finding]:
    """Return the findings about each target, in order; with ``write``, a round trip each
    (following signed links as ``user`` when given)."""
    prober = prober or Prober()
    findings: list[Finding] = []
    for target in targets:
        if target.storage is None:
            findings.append(Finding(target.label, "configuration", ERROR, str(target.problem)))
            continue
        try:
            found, grant = examine(target.label, target.storage, prober)
        except ImproperlyConfigured as exc:  # B2_ACCESS, say, which the storage's caches need
            findings.append(Finding(target.label, "configuration", ERROR, str(exc)))
            continue
        findings.extend(found)
        if not write:
            continue
        blocking = [f.check for f in found if f.status == ERROR and f.check in PREREQUISITES]
        if grant is None or blocking:
            why = ", ".join(blocking) or "credentials"
            findings.append(Finding(target.label, CHECK, SKIP, f"skipped: fix {why} first"))
        else:
            findings.extend(round_trip(target.label, target.storage, grant, user))
    return findings
