"""B2 download tokens shared through Redis: two processes answering the same signed link make one
b2_get_download_authorization between them. Needs ``redis-server`` and the ``redis`` package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from b2_access import PublicStorage
from b2_access.resolver import shared_authorizer
from b2_storage.emulator import LocalB2

from .conftest import MakeStorage, put

AUTH = "b2_get_download_authorization"
WORKER = Path(__file__).with_name("redis_worker.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_cache(settings: Any, redis_url: str) -> str:
    """Point B2_ACCESS at a Redis cache (emptied first); return its alias."""
    settings.CACHES = {
        **settings.CACHES,
        "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url},
    }
    settings.B2_ACCESS = {"cache": "redis"}
    from django.core.cache import caches

    caches["redis"].clear()
    return "redis"


def test_tokens_go_through_redis_in_one_process(
    redis_cache: str, make_storage: MakeStorage, b2_server: LocalB2
) -> None:
    import redis

    storage = make_storage(PublicStorage)
    link = storage.url(put(storage, "r.txt", b"redis"))
    b2_server.reset_calls()
    first = Client().get(link)
    assert first.status_code == 302
    assert b2_server.calls[AUTH] == 1
    shared_authorizer().clear()
    second = Client().get(link)
    assert second["Location"] == first["Location"]
    assert b2_server.calls[AUTH] == 1  # from Redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CACHES[redis_cache]["LOCATION"])
    keys = client.keys("*b2_storage:token:*")
    assert len(keys) == 1
    assert 200 < client.ttl(keys[0]) <= 300  # the handout window: lifetime - min_remaining


def run_worker(link: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(WORKER), link],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_two_processes_share_one_b2_call(
    settings: Any, redis_cache: str, make_storage: MakeStorage, b2_server: LocalB2, bucket: str
) -> None:
    from django.core.cache import caches

    options = b2_server.storage_options(bucket)
    storage = make_storage(PublicStorage)
    link = storage.url(put(storage, "shared/both.txt", b"one call"))
    env = {
        **os.environ,
        "B2_OPTIONS": json.dumps(options),
        "REDIS_URL": settings.CACHES[redis_cache]["LOCATION"],
        "SECRET_KEY": settings.SECRET_KEY,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    caches[redis_cache].clear()
    b2_server.reset_calls()
    first = run_worker(link, env)
    second = run_worker(link, env)
    assert first["status"] == second["status"] == 302
    assert first["location"] == second["location"]
    assert first["location"].startswith(f"{b2_server.realm}/file/{bucket}/shared/both.txt?")
    assert b2_server.calls[AUTH] == 1
    assert b2_server.calls["b2_authorize_account"] == 2  # credentials stay in each process
    import requests

    assert requests.get(first["location"], timeout=10).content == b"one call"
