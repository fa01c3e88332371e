"""Fixtures for the fault tests: local B2 servers with small parts whose injected faults are
counted for the session (printed at the end, and written to test-artifacts/faults-injected.json
for docs/reliability.md), storages on them, and a Redis server a test may stop and restart."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from b2sdk.v2 import B2Api, InMemoryAccountInfo

from b2_storage import B2Storage
from b2_storage.circuit import circuits
from b2_storage.emulator import LocalB2

PART = 100_000  # the storages' part size, the servers' minimum: large files stay small
INJECTED: Counter[str] = Counter()  # faults fired in this process (an xdist worker)
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults-injected.json"

MakeStorage = Callable[..., B2Storage]


def payload(size: int, seed: int = 0) -> bytes:
    """Return ``size`` deterministic pseudo-random bytes."""
    return random.Random(size * 7919 + seed).randbytes(size)


def small_parts_server(**options: Any) -> LocalB2:
    """Return a local B2 server (not started) whose large files may use ``PART``-byte parts."""
    return LocalB2(min_part_size=PART, recommended_part_size=PART, **options)


def count_faults(server: LocalB2) -> None:
    """Add the faults ``server`` injected to the session's count."""
    INJECTED.update(server.faults_injected)


@pytest.fixture(autouse=True)
def _closed_circuits() -> None:
    """Start each test with every B2 circuit closed: a test that took a server down must not
    make the next one fail fast (a process-wide circuit breaker, per account)."""
    circuits.clear()


@pytest.fixture(scope="module")
def module_server() -> Iterator[LocalB2]:
    """A small-parts local B2 server for the module."""
    with small_parts_server() as server:
        yield server
    count_faults(server)


@pytest.fixture
def b2(module_server: LocalB2) -> Iterator[LocalB2]:
    """Return the module's server with its call counts reset and no pending faults."""
    module_server.clear_faults()
    module_server.reset_calls()
    yield module_server
    module_server.clear_faults()


@pytest.fixture
def bucket(b2: LocalB2) -> str:
    """Return the name of a new, empty private bucket."""
    name = f"f-{uuid.uuid4().hex[:24]}"
    b2.create_bucket(name)
    return name


@pytest.fixture
def make_storage(b2: LocalB2, bucket: str) -> MakeStorage:
    """Return a function building a B2Storage on ``bucket`` (part size PART, no metadata
    cache: every answer comes from B2)."""

    def make(**options: Any) -> B2Storage:
        options = {"part_size": PART, "metadata_cache": False, **options}
        return B2Storage(**b2.storage_options(options.pop("bucket", bucket), **options))

    return make


def sdk_for(server: LocalB2) -> B2Api:
    """Return a b2sdk client of its own, to look behind the storage."""
    api = B2Api(InMemoryAccountInfo())
    api.authorize_account(server.realm, server.application_key_id, server.application_key)
    return api


def leftovers(server: LocalB2, bucket: str) -> tuple[list[str], list[str]]:
    """Return the names of every file version and of every unfinished large file in
    ``bucket``: what a failed upload must not leave behind."""
    sdk_bucket = sdk_for(server).get_bucket_by_name(bucket)
    listed = sdk_bucket.ls("", recursive=True, latest_only=False)
    # B2 lists started large files among the versions too (action "start"): counted below.
    versions = [version.file_name for version, _ in listed if version.action != "start"]
    unfinished = [f.file_name for f in sdk_bucket.list_unfinished_large_files()]
    return versions, unfinished


def error_chain(error: BaseException) -> list[BaseException]:
    """Return ``error`` and every error it was raised from or during."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


# -- the session's count of injected faults ----------------------------------------------
def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller adds them up
        workeroutput["faults_injected"] = dict(INJECTED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    INJECTED.update(getattr(node, "workeroutput", {}).get("faults_injected", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not INJECTED:
        return
    total = sum(INJECTED.values())
    kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(INJECTED.items()))
    terminalreporter.write_line(f"faults injected by LocalB2: {total} ({kinds})")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"total": total, "by_kind": dict(INJECTED)}, indent=2) + "\n")


# -- signed links ------------------------------------------------------------------------------
def clear_token_caches() -> None:
    """Forget every cached B2 download token and refusal: in this process and the shared cache."""
    from django.core.cache import caches

    from b2_access.resolver import shared_authorizer

    shared_authorizer().clear()
    caches["default"].clear()


@pytest.fixture
def cold_tokens() -> Iterator[None]:
    """Start and end the test with no download token cached anywhere."""
    clear_token_caches()
    yield
    clear_token_caches()


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[LocalB2]:
    """A small-parts server keeping its state in a data directory, so that a test may stop it
    and start it again on the same port with the same files."""
    server = small_parts_server(data_dir=tmp_path / "b2").start()
    try:
        yield server
    finally:
        server.stop()
        count_faults(server)
