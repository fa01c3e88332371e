"""Child processes of the soak test, read line by line by a thread (and logged to a file)."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """A child whose output lines go to ``on_line`` (by default a queue) and to ``log``."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self.tail: deque[str] = deque(maxlen=200)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.on_line: Callable[[str], None] = self.lines.put
        self.proc = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, name=f"{name}-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout, self.log.open("w", encoding="utf-8") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                self.tail.append(line.rstrip())
                self.on_line(line.rstrip())
        self.lines.put(None)

    def output(self) -> str:
        return "\n".join(self.tail)

    def next_line(self, timeout: float, what: str = "a line") -> str:
        """Return the next queued line; raise with the output if the child ends or is silent."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(
                f"{self.name}: no {what} within {timeout} s:\n{self.output()}"
            ) from None
        if line is None:
            raise RuntimeError(
                f"{self.name} exited ({self.proc.wait()}) before {what}:\n{self.output()}"
            )
        return line

    def next_json(self, timeout: float, event: str | None = None) -> dict[str, Any]:
        """Return the next JSON line (with ``event``, skipping other output)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.0, deadline - time.monotonic()), event or "JSON")
            if not line.startswith("{"):
                continue
            found: dict[str, Any] = json.loads(line)
            if event is None or found.get("event") == event:
                return found

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self, timeout: float = 30.0) -> int:
        """Close its input, terminate it (it is ours), reap it and its reader; return its code."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=10)
        return code
