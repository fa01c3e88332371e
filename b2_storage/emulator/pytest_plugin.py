"""A pytest plugin (entry point ``pytest11``): the ``b2_server`` fixture, a local B2 server.

Installed with this package, it gives any test suite a real B2 native API over HTTP on
127.0.0.1 with no account and no network::

    def test_upload(b2_server):
        storage = B2Storage(**b2_server.storage_options("my-bucket"))

The server lives for the whole session; each test gets the same one, with its call counts reset
and pending faults cleared. Buckets are created on demand by ``storage_options`` users through
``b2_server.create_bucket(name)``, or up front with ``--b2-bucket NAME[:allPublic]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .local import LocalB2


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--b2-bucket`` (repeatable) to create buckets in the session's local B2 server."""
    group = parser.getgroup("b2_storage")
    group.addoption(
        "--b2-bucket",
        action="append",
        default=[],
        metavar="NAME[:allPrivate|allPublic]",
        help="create this bucket in the b2_server fixture's local B2 server",
    )


@pytest.fixture(scope="session")
def b2_server_session(request: pytest.FixtureRequest) -> Iterator[LocalB2]:
    """Start one local B2 server for the test session."""
    buckets = request.config.getoption("--b2-bucket")
    with LocalB2(host="127.0.0.1", port=0, buckets=buckets) as server:
        yield server


@pytest.fixture
def b2_server(b2_server_session: LocalB2) -> Iterator[LocalB2]:
    """Return the session's local B2 server, with call counts reset and no pending faults."""
    b2_server_session.reset_calls()
    b2_server_session.clear_faults()
    yield b2_server_session
    b2_server_session.clear_faults()
