"""Child processes of the tests (servers, workers), started in the repository root, whose output
(stdout and stderr) a thread reads line by line into a log file, a tail and ``on_line``."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, NoReturn, TypeVar

ROOT = Path(__file__).resolve().parents[1]

T = TypeVar("T")


class ChildProcess:
    """A child whose output lines go to ``log``, to ``tail`` (the last 200) and to ``on_line``
    (by default the ``lines`` queue, which ends with ``None`` when the child closes its output).
    """

    stdin: ClassVar[int] = subprocess.DEVNULL  # PIPE in a subclass that writes to the child

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
            stdin=self.stdin,
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
        """Return the last lines the child printed."""
        return "\n".join(self.tail)

    def fail(self, message: str) -> NoReturn:
        """Raise ``message`` as the error of a child that ended or stayed silent."""
        raise RuntimeError(message)

    def next_accepted(self, accept: Callable[[str], T | None], timeout: float, what: str) -> T:
        """Return ``accept(line)`` for the first queued line it accepts (does not map to
        ``None``); fail with the output if the child ends or ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.fail(f"{self.name}: no {what} within {timeout} s:\n{self.output()}")
            if line is None:
                self.fail(
                    f"{self.name} exited ({self.proc.wait()}) before {what}:\n{self.output()}"
                )
            found = accept(line)
            if found is not None:
                return found

    def next_line(self, timeout: float, what: str = "a line") -> str:
        """Return the next queued line; fail with the output if the child ends or is silent."""
        return self.next_accepted(lambda line: line, timeout, what)
