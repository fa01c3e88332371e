"""The storage side of the soak: set the site up, then upload, read and delete files through
the storages while the load runs (a process of its own, on the soak site's settings).

It talks over stdin and stdout in JSON lines. First it migrates the database, creates the
users (and their sessions), saves the seed files of every tier and prints a ``manifest``
(session cookies, files with their SHA1 and signed links, expired and user-bound links). On
``go`` it churns until ``stop``; each iteration, on one of two storages in turn:

- saves a *fresh* file and prints ``live`` (its link may be followed from then on: 302);
- saves a *doomed* file, reads it back and checks it, deletes it, and only then prints ``gone``
  (its link was never followed while it lived, so no token of it is cached anywhere: 404);
- reads two live files through the storage and checks their SHA1;
- keeps at most ``FRESH_CAP`` fresh files: prints ``deleting`` (with the time) before deleting
  the oldest (its link may have warm tokens: 302 or 404 from then on).

On ``stop`` it prints ``stopped`` with its counters and every file still alive.
Usage: ``DJANGO_SETTINGS_MODULE=tests.soak.settings python -m tests.soak.churn PLAN_JSON``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import threading
import time
import traceback
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

FRESH_CAP = 40
PAUSE = 0.2  # seconds between churn iterations: a bounded rate, not a race to saturate


def emit(event: str, **fields: Any) -> None:
    """Print one event as a JSON line."""
    print(json.dumps({"event": event, **fields}), flush=True)


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def payload(rng: random.Random, largest: int) -> bytes:
    """Return random bytes of a random size (B2's SHA1 checks see every byte)."""
    return rng.randbytes(rng.randint(1, largest))


class Site:
    """The storages, users and links of the soak site."""

    def __init__(self, plan: dict[str, Any]) -> None:
        import django

        django.setup()
        from django.core.files.storage import storages

        self.plan = plan
        self.rng = random.Random(13)
        self.storages = {
            tier: storages[alias]
            for tier, alias in (("public", "public"), ("logged_in", "default"), ("staff", "staff"))
        }
        self.link_seconds = int(plan["link_seconds"])
        self.users: dict[str, Any] = {}

    def describe(self, tier: str, name: str, digest: str, size: int) -> dict[str, Any]:
        """Return what the load needs to know of a file: where it is in B2 and its link."""
        storage = self.storages[tier]
        return {
            "tier": tier,
            "name": name,
            "b2name": storage.b2_name(name),
            "sha1": digest,
            "size": size,
            "link": storage.signed_url(name, expires=self.link_seconds),
        }

    def save(self, tier: str, name: str, data: bytes) -> dict[str, Any]:
        from django.core.files.base import ContentFile

        saved = self.storages[tier].save(name, ContentFile(data))
        return self.describe(tier, saved, sha1(data), len(data))

    def setup(self) -> dict[str, Any]:
        """Migrate, create users and sessions, save the seed files; return the manifest."""
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        call_command("migrate", verbosity=0, interactive=False)
        cookies = {}
        for username, staff in (("member", False), ("other", False), ("boss", True)):
            user = get_user_model().objects.create_user(username, is_staff=staff)
            client = Client()
            client.force_login(user)
            cookies[username] = f"sessionid={client.cookies['sessionid'].value}"
            self.users[username] = user
        jobs = [
            (tier, f"seed/{tier}-{index:04d}.bin", payload(self.rng, 64 * 1024))
            for tier, count in self.plan["seed"].items()
            for index in range(count)
        ]
        with ThreadPoolExecutor(4) as pool:
            files = list(pool.map(lambda job: self.save(*job), jobs))
        members = [f for f in files if f["tier"] == "logged_in"][:20]
        bound = [
            {
                **f,
                "link": self.storages["logged_in"].signed_url(
                    f["name"], user=self.users["member"], expires=self.link_seconds
                ),
            }
            for f in members
        ]
        signed_at = time.time()
        expired = [
            {
                **f,
                "link": self.storages[f["tier"]].signed_url(f["name"], expires=1),
                "signed_at": signed_at,
            }
            for f in files[:: max(1, len(files) // 20)]
        ]
        return {"cookies": cookies, "files": files, "bound": bound, "expired": expired}


class Churn:
    """Uploads, reads and deletes through the storages until told to stop."""

    def __init__(self, site: Site, seed_files: list[dict[str, Any]]) -> None:
        self.site = site
        self.rng = random.Random(17)
        self.fresh: deque[dict[str, Any]] = deque()
        self.seed_files = seed_files
        self.counts = {"uploads": 0, "reads": 0, "deletes": 0, "errors": 0}
        self.number = 0

    def iteration(self) -> None:
        self.number += 1
        tier = ("public", "logged_in")[self.number % 2]
        storage = self.site.storages[tier]
        fresh = self.site.save(tier, f"churn/f-{self.number:07d}.bin", payload(self.rng, 96_000))
        self.fresh.append(fresh)
        self.counts["uploads"] += 1
        emit("live", file=fresh)
        doomed = self.site.save(tier, f"churn/d-{self.number:07d}.bin", payload(self.rng, 32_000))
        self.counts["uploads"] += 1
        self.read(doomed)
        storage.delete(doomed["name"])
        self.counts["deletes"] += 1
        if storage.exists(doomed["name"]):
            raise AssertionError(f"{doomed['name']} still exists after delete()")
        emit("gone", file=doomed)
        for _ in range(2):
            self.read(self.rng.choice([*self.fresh, *self.seed_files]))
        if len(self.fresh) > FRESH_CAP:
            old = self.fresh.popleft()
            emit("deleting", name=old["name"], tier=old["tier"], at=time.time())
            self.site.storages[old["tier"]].delete(old["name"])
            self.counts["deletes"] += 1

    def read(self, file: dict[str, Any]) -> None:
        """Read a whole file through its storage and compare its SHA1 with what was saved."""
        with self.site.storages[file["tier"]].open(file["name"]) as handle:
            data = handle.read()
        self.counts["reads"] += 1
        if sha1(data) != file["sha1"]:
            raise AssertionError(f"{file['name']}: read {len(data)} bytes with another SHA1")

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.iteration()
            except Exception:
                self.counts["errors"] += 1
                emit("error", message=traceback.format_exc(limit=8))
            stop.wait(PAUSE)


def main(plan: dict[str, Any]) -> int:
    """Set up, print the manifest, churn between ``go`` and ``stop``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.soak.settings")
    site = Site(plan)
    manifest = site.setup()
    emit("manifest", **manifest)
    commands = iter(sys.stdin)
    if next(commands, "").strip() != "go":
        return 1
    stop = threading.Event()
    churn = Churn(site, manifest["files"])
    worker = threading.Thread(target=churn.run, args=(stop,), name="churn")
    worker.start()
    for line in commands:
        if line.strip() == "stop":
            break
    stop.set()
    worker.join()
    emit("stopped", counts=churn.counts, live=[*manifest["files"], *churn.fresh])
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
