"""One Django process of the shared-Redis token benchmark (run by tests.bench.token_calls).

Reads its configuration from ``BENCH_WORKER`` (JSON), prints ``ready``, then for each command
line ``VARIANT cold|warm`` (``file``, ``bucket`` or ``folder``: the keys of
``tests.bench.token_calls.VARIANTS``) downloads its share of the links through Django's WSGI
handler and prints ``done``. Stops at the end of its input.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    config = json.loads(os.environ["BENCH_WORKER"])
    from .djangoapp import Wsgi, setup

    setup(database=config["database"], redis=config["redis"])
    from b2_access import LoggedInStorage
    from b2_access.resolver import shared_authorizer

    from .token_calls import download_all

    storages = {
        key: LoggedInStorage(**{**config["options"], **extra})
        for key, extra in config["variants"].items()
    }
    links = {
        key: [storage.url(name) for name in config["names"][key]]
        for key, storage in storages.items()
    }
    mine = config["pairs"][config["index"] :: config["processes"]]
    for storage in storages.values():  # a running site has authorized and found its bucket
        storage.client.public_url("warm-up")
        _ = storage.client.bucket
    wsgi = Wsgi()
    print("ready", flush=True)
    for line in sys.stdin:
        key, phase = line.split()
        if phase == "cold":
            shared_authorizer().clear()
        download_all(wsgi, [tuple(pair) for pair in mine], links[key], config["cookies"])
        print("done", flush=True)


if __name__ == "__main__":
    main()
