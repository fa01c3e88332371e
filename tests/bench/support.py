"""Shared pieces of the benchmarks: local B2 and Redis servers in child processes, timing,
statistics, tables and the machine description."""

from __future__ import annotations

import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.services import free_port, start_redis, stop_redis

ROOT = Path(__file__).resolve().parents[2]
MB = 1000 * 1000
MiB = 1024 * 1024


@dataclass(frozen=True)
class Server:
    """A local B2 server running in a child process."""

    realm: str
    key_id: str
    key: str

    def options(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """Return the credentials and bucket as ``B2Storage`` keyword arguments."""
        return {
            "realm": self.realm,
            "application_key_id": self.key_id,
            "application_key": self.key,
            "bucket": bucket,
            **extra,
        }


@contextmanager
def local_b2_process(*buckets: str, data_dir: str | None = None) -> Iterator[Server]:
    """Run ``python -m b2_storage.emulator`` in a child process (so its CPU is not ours)."""
    command = [sys.executable, "-m", "b2_storage.emulator", "--port", "0"]
    for bucket in buckets:
        command += ["--bucket", bucket]
    if data_dir is not None:
        command += ["--data-dir", data_dir]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
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
        process.stdout.close()


class Child:
    """A child process whose output is drained by a thread that counts a marker line."""

    def __init__(self, command: Sequence[str], marker: str, count: int = 1, **popen: Any) -> None:
        self.marker, self.count = marker, count
        self.ready = threading.Event()
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
        )
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        seen = 0
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if self.marker in line:
                seen += 1
                if seen >= self.count:
                    self.ready.set()
        self.ready.set()  # it exited: wait() reports that

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for the marker; raise with the child's output if it died or never said it."""
        if not self.ready.wait(timeout) or self.process.poll() is not None:
            self.stop()
            output = "\n".join(self.lines[-20:])
            raise RuntimeError(f"{self.process.args!r} did not start:\n{output}")

    def stop(self) -> None:
        """Terminate the child (it is ours) and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def redis_server() -> Iterator[str | None]:
    """Run ``redis-server`` on a free port; yield its URL, or ``None`` when it is not installed."""
    if shutil.which("redis-server") is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as directory:
        process = start_redis(port, directory)
        try:
            yield f"redis://127.0.0.1:{port}"
        finally:
            stop_redis(process)


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    """Return the wall-clock seconds of ``repeat`` calls of ``function``."""
    times = []
    clock = time.perf_counter
    for _ in range(repeat):
        start = clock()
        function()
        times.append(clock() - start)
    return times


def interleaved(
    subjects: Mapping[str, Callable[[], object]], total: int, rounds: int = 10
) -> dict[str, list[float]]:
    """Time ``total`` calls of each subject, in ``rounds`` interleaved rounds (drift, such as
    another process's burst or CPU frequency, then hits every subject alike)."""
    times: dict[str, list[float]] = {label: [] for label in subjects}
    per_round = max(1, total // rounds)
    for _ in range(rounds):
        for label, function in subjects.items():
            times[label] += timed(function, per_round)
    return times


def median(values: Sequence[float]) -> float:
    """Return the median."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` (0..1) percentile, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return float(ordered[index])


def ratio(value: float, base: float) -> str:
    """Return ``value / base`` as ``"1.23x"`` (``"-"`` when there is no base)."""
    if not base:
        return "-"
    share = value / base
    if 0 < share < 0.1:
        return f"{share:.3f}x (1/{1 / share:,.0f})"
    return f"{share:.2f}x" if share < 100 else f"{share:,.0f}x"


def micros(seconds: float) -> str:
    """Return seconds as microseconds with a sensible precision."""
    value = seconds * 1e6
    return f"{value:.2f}" if value < 10 else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def millis(seconds: float) -> str:
    """Return seconds as milliseconds with a sensible precision."""
    value = seconds * 1e3
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def human_size(size: int) -> str:
    """Return a byte count as ``1 KB`` / ``10 MB`` / ``1 GiB`` (decimal unless a power of 2)."""
    for unit, scale in (("GiB", 1024**3), ("MiB", MiB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    for unit, scale in (("GB", 1000**3), ("MB", MB), ("KB", 1000)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} B"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


class Discard(io.RawIOBase):
    """A writable that forgets what it is given (a download's destination that costs nothing)."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)


def write_random_file(path: Path, size: int) -> None:
    """Write ``size`` random bytes to ``path``, 1 MiB at a time."""
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(MiB, left))
            out.write(block)
            left -= len(block)


@dataclass
class Summary:
    """One line of the combined table: a figure of ours beside its floor or peer."""

    measure: str
    ours: str
    other: str
    ratio: str
    contract: str = ""
    verdict: str = ""


@dataclass
class Section:
    """What one benchmark produced: Markdown, lines of the combined table, chart files."""

    key: str
    title: str
    markdown: str
    summary: list[Summary] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)
    extra_files: dict[str, str] = field(default_factory=dict)  # more Markdown files to write


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        return "RAM unknown"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """Return a one-line description of this machine."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({_cpu_model()}), "
        f"{_memory()}, Python {platform.python_version()}"
    )


def versions() -> str:
    """Return the versions of the packages the benchmarks compare."""
    names = (
        "Django",
        "b2sdk",
        "itsdangerous",
        "django-backblaze-b2",
        "django-storages",
        "boto3",
        "uvicorn",
    )
    return ", ".join(f"{name} {_version(name)}" for name in names)


def verdict(ok: bool) -> str:
    """Return how a contract line reads in the table: met, or missed in bold."""
    return "met" if ok else "**missed**"
