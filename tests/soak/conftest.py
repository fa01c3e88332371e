"""The soak test's fixtures: the workers share one Redis (the ``soak`` marker is registered in
pyproject.toml, so ``-m "not soak"`` works on any subset of the tests)."""

from __future__ import annotations

from tests.services import redis_url  # noqa: F401 - the workers share this Redis
