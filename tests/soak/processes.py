"""Child processes of the soak test: a :class:`~tests.processes.ChildProcess` that is also
written to (its standard input is a pipe) and prints JSON lines."""

from __future__ import annotations

import contextlib
import json
import subprocess
from typing import Any

from tests.processes import ROOT, ChildProcess

__all__ = ["ROOT", "Proc"]


class Proc(ChildProcess):
    """A child whose output lines go to ``on_line`` (by default a queue) and to ``log``, and
    that reads commands from its standard input."""

    stdin = subprocess.PIPE

    def next_json(self, timeout: float, event: str | None = None) -> dict[str, Any]:
        """Return the next JSON line (with ``event``, skipping other output)."""

        def accept(line: str) -> dict[str, Any] | None:
            if not line.startswith("{"):
                return None
            found: dict[str, Any] = json.loads(line)
            return found if event is None or found.get("event") == event else None

        return self.next_accepted(accept, timeout, event or "JSON")

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
