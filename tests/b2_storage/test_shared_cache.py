"""One cache object per alias per process (Django's ``caches`` gives one per thread/context)."""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches

from b2_storage.shared_cache import shared_cache


def in_thread(function: Any) -> Any:
    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.append(function()))
    worker.start()
    worker.join()
    return found[0]


def test_threads_share_one_cache_object() -> None:
    assert in_thread(lambda: caches["b2"]) is not caches["b2"]  # Django's: one per thread
    assert in_thread(lambda: shared_cache("b2")) is shared_cache("b2")


def test_it_sees_what_djangos_cache_object_wrote() -> None:
    caches["b2"].set("shared-cache-probe", 1)
    assert shared_cache("b2").get("shared-cache-probe") == 1


def test_a_change_of_caches_starts_afresh(settings: Any) -> None:
    before = shared_cache("default")
    settings.CACHES = {**settings.CACHES}
    assert shared_cache("default") is not before
