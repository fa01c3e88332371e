"""Every HTTP attempt to B2 in bounded time: timeouts, a per-operation deadline, the circuit.

b2sdk makes its requests through the ``requests`` session that ``B2HttpApiConfig``'s
``http_session_factory`` returns (its public way to configure HTTP); :class:`BoundedSession` is
that session. For each attempt it

- asks the account's :class:`~.circuit.Circuit`: while B2 is known down it does not call B2 at all
  and raises the error ``give_up`` makes (for b2sdk, one it does not retry);
- uses the storage's ``connect_timeout`` and ``read_timeout``, shortened to what is left of the
  :func:`deadline` the operation runs under (a link's ``link_timeout``);
- reports the outcome to the circuit, and gives up at once (no more b2sdk retries, no back-off
  sleeps) once the circuit is open or the deadline has passed.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from .circuit import Circuit

# The monotonic time by which the current operation must be done (None: no deadline).
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "b2_storage_deadline", default=None
)
MIN_TELLING_TIMEOUT = 1.0  # a shorter (deadline-cut) timeout says little about B2's health

GiveUp = Callable[[str, int], Exception]  # (why, retry-after seconds) -> the error to raise


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Run the block with every B2 attempt done within ``seconds`` from now (an enclosing,
    earlier deadline stays). ``None``: no new deadline."""
    if seconds is None:
        yield
        return
    current = _deadline.get()
    wanted = time.monotonic() + seconds
    token = _deadline.set(wanted if current is None else min(current, wanted))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Return the seconds left of the current deadline (``None``: there is none)."""
    until = _deadline.get()
    return None if until is None else until - time.monotonic()


class BoundedSession(requests.Session):
    """A ``requests`` session whose every request is bounded in time and guarded by a circuit."""

    def __init__(
        self, circuit: Circuit, connect_timeout: float, read_timeout: float, give_up: GiveUp
    ) -> None:
        super().__init__()
        self.circuit = circuit
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.give_up = give_up

    def request(  # type: ignore[override]  # the same call, keyword arguments passed through
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send one attempt to B2 (see the module's docstring)."""
        wait = self.circuit.admit()
        if wait is not None:
            raise self.give_up("B2 is known to be unavailable", wait)
        try:
            uploads = not isinstance(kwargs.get("data"), (bytes, str, type(None)))
            kwargs["timeout"] = timeout = self._timeout(kwargs.get("timeout"), uploads)
            response = super().request(method, url, *args, **kwargs)
        except requests.Timeout:
            self._failed("did not answer in time" if min(timeout) >= MIN_TELLING_TIMEOUT else None)
            raise
        except requests.ConnectionError as exc:
            self._failed("could not be reached" if _not_connected(exc) else None)
            raise
        except BaseException:
            self.circuit.release()
            raise
        if response.status_code < 500:
            self.circuit.answered()
        elif self.circuit.probing():  # the probe's 5xx: no b2sdk retries, no sleeps
            self.circuit.busy()
            response.close()
            raise self.give_up(f"B2 answered {response.status_code}", self.circuit.retry_after())
        return response  # a 5xx while closed: b2sdk retries it; past retries, busy()

    def _timeout(self, given: Any, uploads: bool) -> tuple[float, float]:
        """Return (connect, read) seconds for this attempt: ours, or b2sdk's when shorter, cut
        to the deadline; give up when the deadline has passed.

        urllib3 sends a request's body under the *connect* timeout: an upload (a streamed body)
        gets the read timeout there too, so that a slow link does not fail it after 5 s.
        """
        connect, read = self.connect_timeout, self.read_timeout
        if uploads:
            connect = max(connect, read)
        if isinstance(given, tuple) and all(isinstance(t, (int, float)) for t in given):
            connect, read = min(connect, given[0]), min(read, given[1])
        left = remaining()
        if left is not None:
            if left <= 0:
                raise self.give_up("the operation ran out of time", self.circuit.retry_after())
            connect, read = min(connect, left), min(read, left)
        return connect, read

    def _failed(self, down: str | None) -> None:
        """Report a failed attempt (``down``: why it shows B2 is down; ``None``: a dropped
        connection, or a timeout the deadline cut short); give up now, instead of b2sdk
        retrying after a sleep, once the circuit is open or the deadline has passed."""
        if down is not None:
            self.circuit.down(down)
        else:
            self.circuit.dropped()
        self.circuit.release()  # a probe that failed without opening the circuit again
        wait = self.circuit.waiting()
        if wait is not None:
            raise self.give_up(f"B2 {down or 'dropped connections'}", wait) from None
        left = remaining()
        if left is not None and left <= 0:
            wait = self.circuit.retry_after()
            raise self.give_up("the operation ran out of time", wait) from None


def _not_connected(exc: requests.ConnectionError) -> bool:
    """Return whether no connection was made (refused, unreachable, unknown host): unlike a
    connection dropped mid-request, retrying at once will not help."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)
