"""Shared parts of the reliability suite (issue 13): example budgets and the fuzzers' tallies.

Every fuzz test records how many inputs it tried as the ``fuzz_inputs`` user property; the
terminal summary adds them up per fuzzer (also across pytest-xdist workers, which send their
reports' user properties back to the controller) and prints one line for docs/reliability.md.

Budgets: ``CI`` set (any value) runs the full counts (over 10,000 inputs in all, within about a
minute on 2 cores); without it a tenth; ``RELIABILITY_SCALE`` (a float) multiplies either.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

CI = bool(os.environ.get("CI"))
SCALE = float(os.environ.get("RELIABILITY_SCALE", "1"))


def budget(ci_examples: int) -> int:
    """Return the number of hypothesis examples for a test that runs ``ci_examples`` in CI."""
    base = ci_examples if CI else max(20, ci_examples // 10)
    return max(1, int(base * SCALE))


def fuzz_settings(ci_examples: int) -> settings:
    """Return hypothesis settings for a fuzz test: no deadline (loopback I/O varies), no example
    database (the runs must not depend on earlier ones), fixtures shared by the examples."""
    return settings(
        max_examples=budget(ci_examples),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


class Tally:
    """Count the inputs one fuzz test tried, by mutation kind."""

    def __init__(self, fuzzer: str) -> None:
        self.fuzzer = fuzzer  # the summary's label (a test may rename it)
        self.kinds: Counter[str] = Counter()

    def add(self, kind: str, count: int = 1) -> None:
        self.kinds[kind] += count

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


@pytest.fixture
def tally(request: pytest.FixtureRequest, record_property: Any) -> Any:
    """Return a :class:`Tally`; its counts become the test's ``fuzz_inputs`` properties."""
    counts = Tally(request.node.module.__name__.rpartition(".")[2].removeprefix("test_fuzz_"))
    started = time.perf_counter()
    yield counts
    seconds = time.perf_counter() - started
    summary = {"fuzzer": counts.fuzzer, "total": counts.total, "seconds": seconds}
    record_property("fuzz_inputs", {**summary, "kinds": dict(counts.kinds)})


def pytest_terminal_summary(terminalreporter: Any) -> None:
    per_fuzzer: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "teardown":
                continue  # the properties are recorded when the tally fixture finishes
            for key, value in getattr(report, "user_properties", []):
                if key == "fuzz_inputs":
                    per_fuzzer[value["fuzzer"]] += value["total"]
                    seconds[value["fuzzer"]] += value["seconds"]
    if per_fuzzer:
        parts = ", ".join(
            f"{name} {count} inputs in {seconds[name]:.1f} s"
            for name, count in sorted(per_fuzzer.items())
        )
        mode = "CI" if CI else "local"
        terminalreporter.write_line(
            f"reliability fuzz ({mode}): {parts}; total {sum(per_fuzzer.values())} inputs"
        )
