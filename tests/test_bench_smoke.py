"""The benchmarks run (on tiny sizes): they are never timed here, only exercised."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmarks_run_on_tiny_sizes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "b2sdk upload" in result.stdout
    assert "plain HTTP GET (floor)" in result.stdout
