"""A circuit breaker per B2 account (realm and key id), shared by every storage of the process.

B2 that hangs or refuses connections must not make each request wait through b2sdk's retries
(five tries with ~8 s of back-off, 128 s read timeouts). Once B2 is known down, the circuit
*opens*: every request to that account fails at once (a signed link answers 503 with
``Retry-After``) for a back-off that doubles from ``BACKOFF`` to ``MAX_BACKOFF`` seconds. Then one
request *probes* B2 (half-open) while the others still fail at once; any answer below 500 closes
the circuit.

What counts as "down": a timeout (B2 accepted the connection and did not answer, or did not
accept it in time) or a connection B2 refused opens the circuit at once; ``FAILURES`` connections
dropped or reset in a row open it too (one is routine: a pooled connection the server closed).
B2 answering 5xx past b2sdk's retries is reachable but busy: the next request probes at once
(one at a time), with no dead period. A refusal of the key (401/403) is an
answer: it closes the circuit.

No I/O and no b2sdk here: :mod:`.transport` reports each HTTP attempt, :mod:`.client` each call
(and checks the circuit first, so that a request never waits on a lock held by the probe).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from .exceptions import B2Unavailable

logger = logging.getLogger(__name__)
BACKOFF = 5.0  # seconds of the first back-off
MAX_BACKOFF = 30.0
FAILURES = 3  # dropped connections in a row that open the circuit
PROBE_WAIT = 1  # the Retry-After while another request probes


class Circuit:
    """The state of B2 for one account: closed, open until a time, or probed by one thread.

    :param name: what logs call the account (its realm and key id, never the key).
    :param clock: seconds, monotonic; tests inject one instead of waiting.
    """

    def __init__(self, name: str, clock: Callable[[], float] | None = None) -> None:
        self.name = name
        self.clock = clock or (lambda: time.monotonic())  # looked up per call (freezegun)
        self._lock = threading.Lock()
        self._open = False
        self._until = 0.0  # while open: when a probe may go
        self._backoff = BACKOFF  # the next back-off
        self._failures = 0  # dropped connections in a row while closed
        self._prober: int | None = None  # the thread probing, while half-open

    def __repr__(self) -> str:
        return f"Circuit({self.name!r}, {self.state})"

    @property
    def state(self) -> str:
        """Return ``"closed"``, ``"open"`` or ``"half-open"`` (a probe may go, or is out)."""
        with self._lock:
            if not self._open:
                return "closed"
            return "open" if self.clock() < self._until else "half-open"

    def admit(self) -> int | None:
        """Return ``None`` when a request may go to B2 now (this thread may be the probe), else
        the seconds after which to try again (at least 1)."""
        with self._lock:
            if not self._open:
                return None
            now = self.clock()
            me = threading.get_ident()
            if now < self._until:
                return max(1, math.ceil(self._until - now))
            if self._prober is None or self._prober == me:
                self._prober = me
                return None
            return PROBE_WAIT

    def answered(self) -> None:
        """Record that B2 answered (below 500): close the circuit."""
        with self._lock:
            self._failures = 0
            if not self._open:
                return
            self._open = False
            self._prober = None
            self._backoff = BACKOFF
        logger.info("b2_storage: B2 answers again for %s; requests go through", self.name)

    def down(self, why: str) -> None:
        """Record that B2 is down (``why``: it did not answer in time, it could not be reached):
        open the circuit now; a failed probe doubles the back-off."""
        self._trip(why)

    def dropped(self) -> None:
        """Record a dropped or reset connection: open the circuit after ``FAILURES`` in a row."""
        with self._lock:
            self._failures += 1
            if not self._open and self._failures < FAILURES:
                return
        self._trip("dropped connections")

    def busy(self) -> None:
        """Record 5xx past retries: B2 is reachable, so the next request probes at once."""
        with self._lock:
            if self._open and self._prober != threading.get_ident():
                return  # started before the circuit opened, or it is not the probe
            opened = not self._open
            self._open, self._until, self._prober = True, self.clock(), None
        if opened:
            logger.warning(
                "b2_storage: B2 answers 5xx past retries for %s; one request at a "
                "time until it answers",
                self.name,
            )

    def reset(self) -> None:
        """Close the circuit and forget its history, without logging."""
        with self._lock:
            self._open, self._until, self._prober = False, 0.0, None
            self._failures, self._backoff = 0, BACKOFF

    def release(self) -> None:
        """Give up this thread's probe without a verdict (an error that says nothing of B2)."""
        with self._lock:
            if self._prober == threading.get_ident():
                self._prober = None

    def refuses(self) -> int | None:
        """Return the seconds to wait when a request would be refused now (the back-off runs, or
        another thread probes), else ``None``; unlike :meth:`admit`, never claim the probe."""
        with self._lock:
            if not self._open:
                return None
            now = self.clock()
            if now < self._until:
                return max(1, math.ceil(self._until - now))
            return None if self._prober in (None, threading.get_ident()) else PROBE_WAIT

    def check(self, name: str) -> None:
        """Raise :class:`B2Unavailable` about ``name`` when :meth:`refuses` says so."""
        wait = self.refuses()
        if wait is not None:
            error = B2Unavailable(f"B2 is unavailable for {name!r}: known down; not asked.")
            error.retry_after = wait
            raise error

    def waiting(self) -> int | None:
        """Return the seconds left of the back-off while open, else ``None`` (no side effect)."""
        with self._lock:
            if not self._open or self.clock() >= self._until:
                return None
            return max(1, math.ceil(self._until - self.clock()))

    def probing(self) -> bool:
        """Return whether this thread is the request probing B2."""
        with self._lock:
            return self._open and self._prober == threading.get_ident()

    def retry_after(self) -> int:
        """Return the seconds a client should wait before trying again (at least 1)."""
        with self._lock:
            return max(PROBE_WAIT, math.ceil(self._until - self.clock()) if self._open else 0)

    def _trip(self, why: str) -> None:
        with self._lock:
            if self._open and self._prober != threading.get_ident():
                return  # started before the circuit opened, or it is not the probe
            opened = not self._open
            if not opened:  # the probe failed: wait longer
                self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            backoff = self._backoff
            self._open, self._until, self._prober = True, self.clock() + backoff, None
            self._failures = 0
        if opened:
            logger.warning(
                "b2_storage: B2 %s for %s; failing fast for %d s, then probing",
                why,
                self.name,
                backoff,
            )
        else:
            logger.debug("b2_storage: the probe of %s failed; next in %d s", self.name, backoff)


class Circuits:
    """Every account's circuit in this process, by realm and key id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._circuits: dict[tuple[str, str], Circuit] = {}

    def get(self, realm: str, key_id: str) -> Circuit:
        """Return the circuit of the account ``key_id`` on ``realm`` (created closed)."""
        with self._lock:
            circuit = self._circuits.get((realm, key_id))
            if circuit is None:
                circuit = self._circuits[(realm, key_id)] = Circuit(f"{realm} key {key_id}")
            return circuit

    def clear(self) -> None:
        """Close every circuit (sessions keep theirs: the objects stay)."""
        with self._lock:
            known = list(self._circuits.values())
        for circuit in known:
            circuit.reset()


circuits = Circuits()
