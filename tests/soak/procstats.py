"""Resident memory and open file descriptors of processes, sampled from ``/proc``."""

from __future__ import annotations

import os
import re
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

MiB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """Return ``VmRSS`` of ``pid`` in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise ProcessLookupError(pid)


def open_fds(pid: int) -> int:
    """Return how many file descriptors ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def tcp_ports(pid: int) -> dict[str, tuple[int, int]]:
    """Return ``{socket inode: (local port, remote port)}`` of the TCP sockets ``pid`` sees."""
    ports = {}
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    local, remote, inode = fields[1], fields[2], fields[9]
                    ports[inode] = (
                        int(local.rsplit(":", 1)[1], 16),
                        int(remote.rsplit(":", 1)[1], 16),
                    )
        except FileNotFoundError:
            continue
    return ports


def fds_by_kind(pid: int, names: dict[int, str]) -> Counter[str]:
    """Return ``pid``'s open fds by kind: a name from ``names`` (by the TCP port at either end:
    the peer's for a connection out, ours for one in), else "other"."""
    ports = tcp_ports(pid)
    kinds: Counter[str] = Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed meanwhile
            continue
        found = re.fullmatch(r"socket:\[(\d+)\]", target)
        local, remote = ports.get(found.group(1), (0, 0)) if found else (0, 0)
        kinds[names.get(remote) or names.get(local) or "other"] += 1
    return kinds


@dataclass
class Sample:
    at: float  # seconds since the sampler started
    rss: dict[int, int]
    fds: dict[int, int]
    kinds: dict[int, Counter[str]]  # open fds by kind (see fds_by_kind)


@dataclass
class Sampler:
    """Sample ``pids`` every ``interval`` seconds in a thread, until :meth:`stop`."""

    pids: list[int]
    interval: float
    port_names: dict[int, str] = field(default_factory=dict)  # for fds_by_kind
    samples: list[Sample] = field(default_factory=list)
    vanished: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()  # the end of the run

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):  # the sampling period, not a synchronisation
                return

    def sample(self) -> None:
        rss, fds, kinds = {}, {}, {}
        for pid in self.pids:
            try:
                rss[pid], fds[pid] = rss_bytes(pid), open_fds(pid)
                kinds[pid] = fds_by_kind(pid, self.port_names)
            except (FileNotFoundError, ProcessLookupError):
                self.vanished.add(pid)
        self.samples.append(Sample(time.monotonic() - self._started, rss, fds, kinds))

    def kinds(self, pid: int) -> str:
        """Return the kinds of ``pid``'s open fds at the last sample, as text."""
        last = next((s.kinds[pid] for s in reversed(self.samples) if pid in s.kinds), Counter())
        return ", ".join(f"{kind} {count}" for kind, count in last.most_common())

    def growth(self, pid: int, what: str, seconds: float) -> tuple[int, int, int, int]:
        """Return (start, mid, end, growth over the second half) of ``what`` ("rss"/"fds")
        for ``pid``; mid and end are medians of three samples, so one GC cycle does not count."""
        series = [(s.at, getattr(s, what)[pid]) for s in self.samples if pid in getattr(s, what)]
        half = [v for at, v in series if at >= seconds / 2]
        mid = int(statistics.median(half[:3])) if half else series[-1][1]
        end = int(statistics.median([v for _, v in series[-3:]]))
        return series[0][1], mid, end, end - mid
