"""The shared token cache (a real redis-server) stopped and started again while signed links are
being clicked from several threads.

While Redis is down every click still answers (302, or 503 with ``Retry-After``: never 500), the
tokens then come from B2; once Redis is back, tokens go through it again.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from b2_access import PublicStorage
from b2_access.resolver import shared_authorizer
from b2_storage.emulator import LocalB2
from tests.services import free_port, missing, start_redis, stop_redis

from .conftest import clear_token_caches

CLICKERS = 4
CLICKS_PER_PHASE = 24  # clicks answered in each phase: Redis up, down, up again


class RedisProcess:
    """A private redis-server on a fixed port of 127.0.0.1 that can be stopped and restarted."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            missing("redis-server not installed: apt-get install redis-server")
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_redis(self.port, self.workdir)

    def stop(self) -> None:
        if self.process is not None:
            stop_redis(self.process)
            self.process = None

    def token_keys(self) -> list[bytes]:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            return list(client.keys("*b2_storage:token:*"))
        finally:
            client.close()


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    try:
        import redis  # noqa: F401 - Django's RedisCache needs it
    except ImportError:
        missing("the redis package is not installed")
    server = RedisProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_tokens(settings: Any, redis_process: RedisProcess) -> Iterator[RedisProcess]:
    """Point B2_ACCESS's shared token cache at ``redis_process``."""
    settings.CACHES = {
        **settings.CACHES,
        "redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_process.url,
        },
    }
    settings.B2_ACCESS = {"cache": "redis"}
    clear_token_caches()
    yield redis_process
    clear_token_caches()


class Load:
    """Threads clicking signed links, each click cold in this process (so it reads the shared
    cache), counting the answers; a phase waits for a number of answers, not for time."""

    def __init__(self, links: list[str]) -> None:
        self.links = links
        self.answers: Counter[int] = Counter()
        self.errors: list[BaseException] = []
        self.done = 0
        self.stopping = threading.Event()
        self.changed = threading.Condition()

    def clicker(self, index: int) -> None:
        client = Client()
        while not self.stopping.is_set():
            shared_authorizer().tokens.clear()  # this process forgets: the next click is cold
            try:
                response = client.get(self.links[(index + self.done) % len(self.links)])
                status = response.status_code
                if status == 503:
                    assert response["Retry-After"].isdigit()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)
                status = 500
            with self.changed:
                self.answers[status] += 1
                self.done += 1
                self.changed.notify_all()

    def wait_for(self, clicks: int) -> Counter[int]:
        """Return the answers of the next ``clicks`` clicks."""
        with self.changed:
            before, target = Counter(self.answers), self.done + clicks
            assert self.changed.wait_for(lambda: self.done >= target, timeout=30), "clicks hung"
            return self.answers - before


def test_clicks_go_on_while_redis_is_down(redis_tokens: RedisProcess, b2_server: LocalB2) -> None:
    bucket = f"redis-down-{uuid.uuid4().hex[:12]}"
    b2_server.create_bucket(bucket)
    storage = PublicStorage(**b2_server.storage_options(bucket))
    links = []
    for index in range(6):
        name = storage.save(f"load/{index}.txt", ContentFile(b"load %d" % index))
        links.append(storage.url(name))
    load = Load(links)
    with ThreadPoolExecutor(CLICKERS) as pool:
        for index in range(CLICKERS):
            pool.submit(load.clicker, index)
        try:
            up = load.wait_for(CLICKS_PER_PHASE)
            redis_tokens.stop()
            down = load.wait_for(CLICKS_PER_PHASE)
            redis_tokens.start()  # the same port, empty
            load.wait_for(CLICKERS)  # the clicks in flight across the restart
            again = load.wait_for(CLICKS_PER_PHASE)
        finally:
            load.stopping.set()
    assert load.errors == []
    for phase in (up, down, again):
        assert set(phase) <= {302, 503}, phase
    assert down[302] > 0, down  # B2 is up: Redis being down costs the cache, not the answer
    assert again[302] > 0, again
    assert redis_tokens.token_keys(), "tokens did not go through Redis again once it was back"
