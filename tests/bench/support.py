"""Shared pieces of the benchmarks: a local B2 server in its own process, timing, tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Server:
    """A local B2 server running in a child process."""

    realm: str
    key_id: str
    key: str


@contextmanager
def local_b2_process(*buckets: str, data_dir: str | None = None) -> Iterator[Server]:
    """Run ``python -m b2_storage.emulator`` in a child process (so its CPU is not ours)."""
    command = [sys.executable, "-m", "b2_storage.emulator", "--port", "0"]
    for bucket in buckets:
        command += ["--bucket", bucket]
    if data_dir is not None:
        command += ["--data-dir", data_dir]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    values: dict[str, str] = {}
    for line in process.stdout:
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            values[name] = value
        if len(values) == 3:
            break
    try:
        yield Server(
            values["B2_ENVIRONMENT"], values["B2_APPLICATION_KEY_ID"], values["B2_APPLICATION_KEY"]
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    """Return the wall-clock seconds of ``repeat`` calls of ``function``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    """Return the median."""
    return float(statistics.median(values))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """Return a one-line description of this machine."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
