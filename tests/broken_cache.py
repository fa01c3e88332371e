"""A Django cache backend whose server is down: every operation raises ConnectionError."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import BaseCache


class DownCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def _down(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the cache server is down")

    add = get = set = touch = delete = clear = get_many = set_many = delete_many = _down
