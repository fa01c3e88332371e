"""Register the ``soak`` marker (``-m "not soak"`` leaves the soak test out of a quick run)."""

from __future__ import annotations

import pytest

from tests.services import redis_url  # noqa: F401 - the workers share this Redis


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "soak: the load-and-soak test (SOAK_SECONDS sets its length); runs in CI too"
    )
