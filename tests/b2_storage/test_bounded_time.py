"""B2 that hangs or is down costs bounded time: timeouts, a deadline per link, and a circuit
breaker per account that fails fast once B2 is known down, then probes with one request.

Real sockets on 127.0.0.1: a server that accepts connections and never answers (a hung load
balancer), a closed port, and a local B2 server stopped and started again. No sleeping: the
circuit's clock is injected to skip its back-off. The time bounds are safety bounds, not
performance targets (``hatch run bench:all`` measures).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from b2_storage import B2Storage
from b2_storage.circuit import BACKOFF, Circuit, circuits
from b2_storage.emulator import LocalB2
from b2_storage.exceptions import B2AccessRefused, B2ConfigurationError, B2Unavailable
from b2_storage.transport import deadline, remaining

KEY_ID = "0012345678"
KEY = "K005" + "s3cr3t" * 5  # never in a log line or an error
BOUND = 20.0  # seconds: the safety bound of anything that waits on a broken B2
FAST = 1.0  # seconds: "at once" (no B2 call), with room for a slow CI machine


class HungB2:
    """A B2 that accepts connections and never answers; it counts the connections it accepted."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.realm = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed
                return
            with self._changed:
                self._held.append(conn)
                self._changed.notify_all()

    @property
    def accepted(self) -> int:
        """Return how many connections it accepted so far."""
        with self._changed:
            return len(self._held)

    def wait_for(self, count: int, timeout: float = BOUND) -> bool:
        """Wait until ``count`` connections were accepted; return whether they were."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._held) >= count, timeout)

    def close(self) -> None:
        """Stop accepting (wakes the accept loop) and drop every held connection."""
        with contextlib.suppress(OSError):  # not connected: fine
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=BOUND)
        with self._changed:
            for conn in self._held:
                conn.close()


def closed_port_realm() -> str:
    """Return the URL of a port nothing listens on (B2 down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def storage_on(realm: str, **options: Any) -> B2Storage:
    """Return a storage of a never-authorized account on ``realm``."""
    options = {
        "application_key_id": KEY_ID,
        "application_key": KEY,
        "bucket": "docs",
        "realm": realm,
        **options,
    }
    return B2Storage(**options)


def timed(operation: Callable[[], object]) -> tuple[float, BaseException | None]:
    """Run ``operation``; return how long it took and what it raised."""
    started = time.monotonic()
    try:
        operation()
    except Exception as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


@pytest.fixture
def hung() -> Iterator[HungB2]:
    server = HungB2()
    yield server
    server.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], FakeClock]:
    """Return ``inject(realm, key_id)``: the account's circuit then runs on a fake clock."""

    def inject(realm: str, key_id: str = KEY_ID) -> FakeClock:
        fake = FakeClock()
        monkeypatch.setattr(circuits.get(realm, key_id), "clock", fake)
        return fake

    return inject


# -- options -------------------------------------------------------------------------------
def test_timeouts_have_defaults() -> None:
    config = storage_on("http://127.0.0.1:9").config
    assert (config.connect_timeout, config.read_timeout, config.link_timeout) == (5.0, 30.0, 10.0)
    assert storage_on("http://127.0.0.1:9", read_timeout=2).config.read_timeout == 2


@pytest.mark.parametrize("option", ["connect_timeout", "read_timeout", "link_timeout"])
@pytest.mark.parametrize("value", [0, -1, 3601, float("nan"), True, "5", None])
def test_timeouts_are_validated(option: str, value: object) -> None:
    with pytest.raises(B2ConfigurationError, match=option) as raised:
        storage_on("http://127.0.0.1:9", **{option: value})
    assert KEY not in str(raised.value)


# -- a hung B2 -----------------------------------------------------------------------------
def test_save_and_open_on_a_hung_b2_raise_unavailable_in_bounded_time(hung: HungB2) -> None:
    storage = storage_on(hung.realm, read_timeout=2)
    took, raised = timed(lambda: storage.save("a.txt", ContentFile(b"a")))
    assert isinstance(raised, B2Unavailable) and took < BOUND, raised
    assert raised.retry_after >= 1 and KEY not in str(raised)
    seen = hung.accepted
    for operation in (
        lambda: storage.open("a.txt"),
        lambda: storage.exists("a.txt"),
        lambda: storage.save("b.txt", ContentFile(b"b")),
    ):
        took, raised = timed(operation)
        assert isinstance(raised, B2Unavailable) and took < FAST  # the circuit is open
    assert hung.accepted == seen


def test_url_on_a_hung_b2_answers_within_the_link_timeout_by_default(hung: HungB2) -> None:
    storage = storage_on(hung.realm)  # the defaults: a 30 s read timeout, a 10 s link timeout
    took, raised = timed(lambda: storage.url("a.txt"))
    assert isinstance(raised, B2Unavailable) and took < 15.0, raised  # the target for a link
    seen = hung.accepted
    took, raised = timed(lambda: storage.url("a.txt"))
    assert isinstance(raised, B2Unavailable) and took < FAST
    assert hung.accepted == seen


def test_deadlines_nest_to_the_earliest() -> None:
    assert remaining() is None
    with deadline(5):
        with deadline(60):
            assert 0 < (remaining() or 0) <= 5
        with deadline(None):
            assert 0 < (remaining() or 0) <= 5
    assert remaining() is None


# -- a B2 that is down ---------------------------------------------------------------------
def test_a_closed_port_fails_fast(caplog: pytest.LogCaptureFixture) -> None:
    realm = closed_port_realm()
    storage = storage_on(realm)
    with caplog.at_level(logging.DEBUG, logger="b2_storage"):
        took, raised = timed(lambda: storage.exists("a.txt"))
        assert isinstance(raised, B2Unavailable) and took < 5, raised  # b2sdk alone: 8 s
        assert raised.retry_after == BACKOFF
        took, raised = timed(lambda: storage.save("a.txt", ContentFile(b"a")))
        assert isinstance(raised, B2Unavailable) and took < FAST
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the circuit opened once
    assert "could not be reached" in warnings[0].getMessage()
    assert realm in warnings[0].getMessage()
    assert all(KEY not in r.getMessage() for r in caplog.records)


def test_after_the_backoff_one_request_probes(
    hung: HungB2, clock: Callable[..., FakeClock]
) -> None:
    fake = clock(hung.realm)
    storage = storage_on(hung.realm, read_timeout=1.5)
    assert isinstance(timed(lambda: storage.exists("a"))[1], B2Unavailable)
    circuit = circuits.get(hung.realm, KEY_ID)
    assert circuit.state == "open"
    assert circuit.retry_after() == BACKOFF
    fake.advance(BACKOFF - 1)
    _, raised = timed(lambda: storage.exists("a"))
    assert isinstance(raised, B2Unavailable) and raised.retry_after == 1
    fake.advance(1)
    assert circuit.state == "half-open"
    seen = hung.accepted
    probe_result: list[Any] = []
    probe = threading.Thread(target=lambda: probe_result.extend(timed(lambda: storage.exists("a"))))
    probe.start()
    assert hung.wait_for(seen + 1)  # the probe reached B2 and waits for its answer
    took, raised = timed(lambda: storage.exists("b"))  # another request meanwhile
    assert isinstance(raised, B2Unavailable) and took < FAST
    probe.join(BOUND)
    assert isinstance(probe_result[1], B2Unavailable)
    assert hung.accepted == seen + 1 and circuit.state == "open"  # only the probe asked B2
    assert circuit.retry_after() == 2 * BACKOFF  # a failed probe doubles the back-off


def test_the_backoff_is_capped() -> None:
    fake = FakeClock()
    circuit = Circuit("test", clock=fake)
    waits = []
    for _ in range(6):
        circuit.down("did not answer in time")
        waits.append(circuit.retry_after())
        fake.advance(waits[-1])
        assert circuit.admit() is None  # this thread probes
    assert waits == [5, 10, 20, 30, 30, 30]
    circuit.answered()
    assert circuit.state == "closed"  # and forgot the back-off:
    circuit.down("did not answer in time")
    assert circuit.retry_after() == BACKOFF


def test_a_b2_that_comes_back_closes_the_circuit(
    tmp_path: Path, clock: Callable[..., FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    with LocalB2(data_dir=tmp_path, buckets=["back-again"]) as server:
        fake = clock(server.realm, server.application_key_id)
        circuit = circuits.get(server.realm, server.application_key_id)
        storage = B2Storage(**server.storage_options("back-again", metadata_cache=False))
        storage.save("a.txt", ContentFile(b"kept"))
        server.stop()
        with caplog.at_level(logging.INFO, logger="b2_storage"):
            took, raised = timed(lambda: storage.open("a.txt"))
            assert isinstance(raised, B2Unavailable) and took < BOUND, raised
            server.start()
            _, raised = timed(lambda: storage.open("a.txt"))
            assert isinstance(raised, B2Unavailable)  # B2 is back, but the back-off runs
            fake.advance(circuit.retry_after())
            with storage.open("a.txt") as file:
                assert file.read() == b"kept"
            assert storage.exists("a.txt")
        assert circuit.state == "closed"
    levels = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "b2_storage.circuit"]
    assert [level for level, _ in levels] == [logging.WARNING, logging.INFO]
    assert "answers again" in levels[1][1]
    assert all(server.application_key not in message for _, message in levels)


# -- B2 answering ---------------------------------------------------------------------------
def test_a_503_storm_is_retried_or_fails_unavailable_then_heals(
    make_storage: Callable[..., B2Storage], b2: LocalB2
) -> None:
    storage = make_storage()
    storage.save("a.txt", ContentFile(b"a"))
    b2.fail_next("b2_list_file_names", 2, status=503, retry_after=0)
    assert storage.listdir("") == ([], ["a.txt"])  # retried by b2sdk
    circuit = circuits.get(b2.realm, b2.application_key_id)
    assert circuit.state == "closed"
    b2.fail_next("b2_list_file_names", 50, status=503, retry_after=0)
    with pytest.raises(B2Unavailable):
        storage.listdir("")
    assert circuit.state == "half-open"  # B2 answers: the next request probes at once
    with pytest.raises(B2Unavailable):  # the probe's 503: given up, no b2sdk retries
        storage.listdir("")
    b2.clear_faults()
    assert storage.listdir("") == ([], ["a.txt"])
    assert circuit.state == "closed"


def test_a_refused_key_is_not_b2_down(b2: LocalB2, bucket: str) -> None:
    key_id, _ = b2.create_key(["listBuckets", "listFiles", "readFiles"])
    storage = B2Storage(
        **b2.storage_options(bucket, application_key_id=key_id, application_key=KEY)
    )
    for _ in range(3):
        with pytest.raises(B2AccessRefused):
            storage.exists("a.txt")
    assert circuits.get(b2.realm, key_id).state == "closed"
