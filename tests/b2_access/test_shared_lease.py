"""Across processes sharing a cache, one of them asks B2 for a token; the others wait for it."""

from __future__ import annotations

import threading

from b2_access import SignedB2Storage
from b2_access.authorize import DownloadAuthorizer
from b2_access.conf import get_access_settings
from b2_access.signing import Grant
from b2_storage.emulator import LocalB2

from .conftest import put


def test_authorizers_sharing_a_cache_make_one_b2_call(
    storage: SignedB2Storage, b2_server: LocalB2
) -> None:
    put(storage, "lease/a.txt", b"a")
    grant = Grant(storage.fingerprint, "lease/a.txt", "logged_in", 300)
    # Each authorizer stands for a process: its own in-process cache and locks, one shared cache.
    authorizers = [DownloadAuthorizer(get_access_settings()) for _ in range(8)]
    storage.client.public_url("lease/a.txt")  # account authorized before the race
    b2_server.reset_calls()
    start = threading.Barrier(len(authorizers))
    urls: list[str] = []

    def run(authorizer: DownloadAuthorizer) -> None:
        start.wait()
        urls.append(authorizer.url(storage, grant.delivery))

    threads = [threading.Thread(target=run, args=(a,)) for a in authorizers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(urls) == len(authorizers)
    assert len(set(urls)) == 1  # everyone hands out the same token
    assert b2_server.calls["b2_get_download_authorization"] == 1
