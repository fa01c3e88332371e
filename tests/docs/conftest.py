"""Fixtures of the docs tests."""

from tests.services import redis_url  # noqa: F401 - the docs' production settings use Redis
