"""The example's server processes for the end-to-end tests: their environment, and a
:class:`ServerProcess` whose output is logged, waited on, and checked for tracebacks at exit."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from tests.processes import ROOT as REPO
from tests.processes import ChildProcess

SECRET_KEY = "e2e-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
STARTUP_SECONDS = 60.0


def example_env(**extra: str) -> dict[str, str]:
    """Return the environment for a process of the example site (not the test settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMPLE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="example.site.settings",
        EXAMPLE_SECRET_KEY=SECRET_KEY,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    env.update(extra)
    return env


class ServerProcess(ChildProcess):
    """A server subprocess whose output (stdout and stderr) is read line by line into a log;
    its failures fail the test."""

    def output(self) -> str:
        """Return what the process printed so far (from its log file)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def fail(self, message: str) -> NoReturn:
        pytest.fail(message)

    def wait_for(self, pattern: str, timeout: float = STARTUP_SECONDS) -> re.Match[str]:
        """Return the first match of ``pattern`` in the coming output lines, or fail."""
        what = f"line matching {pattern!r}"
        return self.next_accepted(lambda line: re.search(pattern, line), timeout, what)

    def wait_listening(self, url: str, timeout: float = STARTUP_SECONDS) -> None:
        """Wait until ``url``'s port accepts connections (while the process is alive)."""
        parts = urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(address, timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{self.name} never listened on {url}:\n{self.output()}")
            try:  # waiting on the process: returns at once if it died
                code = self.proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"{self.name} exited ({code}) before listening:\n{self.output()}")

    def interrupt(self, timeout: float = 20.0) -> int:
        """Press Ctrl-C (SIGINT); return the exit code (killing it if it does not stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = -999
        self._reader.join(timeout=5)
        return code

    def assert_stopped_cleanly(self, code: int) -> None:
        """Fail unless Ctrl-C stopped the process with exit code 0 and no traceback."""
        text = self.output()
        assert code == 0, f"{self.name} did not exit cleanly on Ctrl-C ({code}):\n{text}"
        found = unexpected_traceback(text)
        assert found is None, f"{self.name} printed a traceback while serving:\n{found}"


REFUSAL_LOG = "Forbidden (Permission denied): "  # django.request's line for a raised 403
REFUSAL = "django.core.exceptions.PermissionDenied"


def unexpected_traceback(text: str) -> str | None:
    """Return the first traceback in ``text`` (up to 3000 characters), skipping the ones Django
    logs for a view's ``raise PermissionDenied(...)``: that is a 403 page, not a crash (DEBUG
    sends django.request's warnings, with the exception, to the console)."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        end = next(
            (i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines)
        )
        logged_refusal = start > 0 and lines[start - 1].startswith(REFUSAL_LOG)
        if logged_refusal and end < len(lines) and lines[end].startswith(f"{REFUSAL}:"):
            continue
        return "\n".join(lines[start:])[:3000]
    return None
