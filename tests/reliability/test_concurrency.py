"""Many threads, one storage instance, one local B2 server: saves, reads and deletes of the same
and of different names at once.

What may be asserted under races, and is:

* no exception but the documented one (``FileNotFoundError`` for a name that is deleted or not
  saved yet);
* every read returns exactly the bytes of one complete save of that name (each save's bytes are
  unique and of their own length, so a mixed, short or long read cannot pass);
* the end state is one a linearizable store allows: each name holds the bytes of a save (or is
  absent after a delete) that no other completed operation on that name strictly followed;
* the storage's own view (``exists()``, ``size()``, ``open()``; the metadata cache) agrees with a
  fresh instance's view of B2 at the end;
* the signed links of the files redirect to B2 URLs that download exactly those bytes.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client

from b2_access import PublicStorage
from b2_storage import B2IntegrityError
from b2_storage.emulator import LocalB2

THREADS = 16
OPS_PER_THREAD = 24
SHARED = [f"shared/{i}.bin" for i in range(3)]


@dataclass(frozen=True)
class Op:
    kind: str  # save, read, delete
    name: str
    start: int  # monotonic ns
    end: int
    data: bytes | None = None  # what was saved, or read (None: FileNotFoundError)
    error: str = ""


def payload(name: str, thread: int, seq: int, rng: random.Random) -> bytes:
    """Return bytes unique to this save, of a length of their own, whose every part says whose."""
    tag = f"{name}|{thread}|{seq}|".encode()
    block = hashlib.sha256(tag).digest()
    length = rng.choice([0, 1, 17, 4096, 65_537, rng.randrange(1, 200_000)])
    return (tag + block * (length // 32 + 1))[: max(length, len(tag))]


def worker(storage: PublicStorage, thread: int, log: list[Op], lock: threading.Lock) -> None:
    rng = random.Random(thread)
    own = f"own/t{thread:02d}.bin"
    for seq in range(OPS_PER_THREAD):
        name = rng.choice(SHARED) if rng.random() < 0.7 else own
        kind = rng.choices(["save", "read", "delete"], weights=[5, 4, 1])[0]
        start = time.monotonic_ns()
        data: bytes | None = None
        error = ""
        try:
            if kind == "save":
                data = payload(name, thread, seq, rng)
                saved = storage.save(name, ContentFile(data))
                if saved != name:
                    error = f"saved as {saved!r}"
            elif kind == "read":
                try:
                    with storage.open(name) as handle:
                        data = handle.read()
                except FileNotFoundError:  # deleted (or not saved yet): documented
                    data = None
                except B2IntegrityError as exc:
                    if "replaced in B2 while it was being read" not in str(exc):
                        raise
                    data = None  # overwritten mid-read: the library says so rather than mixing
            else:
                storage.delete(name)
        except Exception as exc:  # anything else is a finding: keep it for the assertion
            error = f"{type(exc).__name__}: {exc}"
        with lock:
            log.append(Op(kind, name, start, time.monotonic_ns(), data, error))


def final_candidates(ops: list[Op]) -> list[Op]:
    """Return the completed writes that no other completed write strictly followed."""
    writes = [op for op in ops if op.kind in ("save", "delete") and not op.error]
    return [w for w in writes if not any(other.start > w.end for other in writes)]


@pytest.fixture
def storage(b2_server: LocalB2) -> PublicStorage:
    bucket = f"conc-{uuid.uuid4().hex[:20]}"
    b2_server.create_bucket(bucket)
    return PublicStorage(**b2_server.storage_options(bucket, allow_overwrite=True))


def test_threads_share_one_storage(storage: PublicStorage, b2_server: LocalB2, db: None) -> None:
    log: list[Op] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=worker, args=(storage, t, log, lock), name=f"worker-{t}")
        for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert len(log) == THREADS * OPS_PER_THREAD

    saved: dict[str, set[bytes]] = defaultdict(set)
    for op in log:
        if op.kind == "save" and op.data is not None:
            saved[op.name].add(op.data)
    bad_reads = [
        op
        for op in log
        if op.kind == "read" and op.data is not None and op.data not in saved[op.name]
    ]
    assert not bad_reads, "reads that are no complete save:\n" + "\n".join(
        f"{op.name}: {len(op.data or b'')} bytes starting {(op.data or b'')[:40]!r}"
        for op in bad_reads[:10]
    )

    fresh = PublicStorage(**b2_server.storage_options(storage.config.bucket))  # no cache
    by_name: dict[str, list[Op]] = defaultdict(list)
    for op in log:
        by_name[op.name].append(op)
    client = Client(raise_request_exception=False)
    for name, ops in sorted(by_name.items()):
        try:
            with fresh.open(name) as handle:
                final: bytes | None = handle.read()
        except FileNotFoundError:
            final = None
        candidates = final_candidates(ops)
        allowed = {op.data for op in candidates if op.kind == "save"}
        if any(op.kind == "delete" for op in candidates) or not candidates:
            allowed.add(None)
        assert final in allowed, (
            f"{name}: B2 holds {describe(final)}, but the last completed writes were "
            f"{[(op.kind, describe(op.data)) for op in candidates]}"
        )
        # The storage under test (its metadata cache) agrees with B2.
        assert storage.exists(name) == (final is not None), name
        if final is None:
            with pytest.raises(FileNotFoundError):
                storage.size(name)
            continue
        assert storage.size(name) == len(final), (
            f"{name}: size() says {storage.size(name)}, B2 holds {len(final)} bytes "
            "(the metadata cache kept another save's size)"
        )
        with storage.open(name) as handle:
            assert handle.read() == final, name
        # The signed link (and the token cache behind it) opens exactly these bytes.
        response = client.get(storage.url(name))
        assert response.status_code == 302, (name, response.status_code)
        downloaded = requests.get(response["Location"], timeout=30)
        assert downloaded.status_code == 200, name
        assert downloaded.content == final, f"{name}: the signed link opened other bytes"
    # Last, so that the end-state checks above run even when an operation failed.
    errors = [op for op in log if op.error]
    kinds = Counter(f"{op.kind}: {op.error.split(' (version')[0][:90]}" for op in errors)
    assert not errors, f"{len(errors)} undocumented exceptions:\n" + "\n".join(
        f"{count} x {kind}" for kind, count in kinds.most_common()
    )


def describe(data: bytes | None) -> str:
    if data is None:
        return "nothing"
    return f"{len(data)} bytes {data[:24]!r}"


def test_concurrent_clicks_share_one_token(
    storage: PublicStorage, b2_server: LocalB2, db: None
) -> None:
    """A burst of cold clicks on one link from many threads: all redirect to a URL that opens the
    file, and B2 is asked for a download authorization at most once per process."""
    name = storage.save("burst/file.txt", ContentFile(b"burst"))
    link = storage.url(name)
    b2_server.reset_calls()
    locations: list[str] = []
    failures: list[Any] = []
    barrier = threading.Barrier(THREADS)

    def click() -> None:
        barrier.wait()
        response = Client(raise_request_exception=False).get(link)
        if response.status_code == 302:
            locations.append(response["Location"])
        else:
            failures.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures and len(locations) == THREADS
    assert b2_server.calls.get("b2_get_download_authorization", 0) <= 1
    for location in set(locations):
        assert requests.get(location, timeout=30).content == b"burst"


# -- the races the test above meets, one at a time -------------------------------------------
def test_a_file_replaced_by_a_shorter_one_after_open(storage: PublicStorage) -> None:
    """open() finds a version and its size; the bytes are fetched by name at the first read. If
    the name was overwritten in between, the read must not return the new version's bytes as the
    old one's, and must say why: B2IntegrityError ("replaced ... while it was being read")."""
    name = storage.save("race/replaced.bin", ContentFile(b"x" * 1000))
    handle = storage.open(name)  # size 1000 known now; nothing downloaded yet
    storage.save(name, ContentFile(b"short"))  # allow_overwrite: a new, shorter version
    try:
        data = handle.read()
    except FileNotFoundError:
        pytest.fail("the name exists: FileNotFoundError is wrong here")
    except B2IntegrityError as exc:
        assert "replaced in B2 while it was being read" in str(exc)
        return
    except Exception as exc:
        pytest.fail(
            f"read() of a file replaced by a shorter version after open() raised "
            f"{type(exc).__name__}: {exc}; expected B2IntegrityError ('replaced in B2 while it "
            "was being read', as for a longer replacement) or the old bytes"
        )
    finally:
        handle.close()
    assert data in (b"x" * 1000,), f"read() returned {len(data)} bytes {data[:20]!r}"


def test_concurrent_deletes_of_one_name_do_not_raise(storage: PublicStorage) -> None:
    """delete() of a missing file is fine (Django's contract and DESIGN.md), so two deletes of
    one name at once must both return, whichever removes the versions first."""
    failures: list[str] = []
    for round_ in range(10):
        name = storage.save(f"race/deleted-{round_}.bin", ContentFile(b"d" * 100))
        for _ in range(3):  # several versions: a longer window between listing and deleting
            storage.save(name, ContentFile(b"d" * 100))
        barrier = threading.Barrier(8)

        def delete(name: str = name, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                storage.delete(name)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=delete) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not storage.exists(name)
    assert not failures, (
        f"{len(failures)} of 80 concurrent delete() calls raised, e.g. {failures[0]} "
        "(delete_all lists the versions, then deletes each: a version another delete removed "
        "in between raises instead of counting as deleted)"
    )


def test_downloads_racing_a_delete_never_get_a_500(b2_server: LocalB2) -> None:
    """The local B2 server: a download by name of a version that is being deleted is either
    served or B2's 404, never a 500 (the blob file can vanish between the lookup and the read)."""
    bucket = f"race-{uuid.uuid4().hex[:20]}"
    b2_server.create_bucket(bucket, "allPublic")
    uploader = PublicStorage(**b2_server.storage_options(bucket, allow_overwrite=True))
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    for round_ in range(15):
        name = uploader.save(f"gone-{round_}.bin", ContentFile(b"g" * 50_000))
        barrier = threading.Barrier(9)
        url = f"{b2_server.realm}/file/{bucket}/{name}"

        def download(url: str = url, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            for _ in range(3):
                try:
                    with requests.get(url, timeout=5) as response:
                        ok = response.status_code != 200 or len(response.content) == 50_000
                        statuses[response.status_code if ok else -1] += 1
                except requests.RequestException as exc:
                    statuses[-1] += 1  # a 200 whose body never came (see below)
                    errors.append(f"{type(exc).__name__}: {exc}")

        def remove(name: str = name, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            uploader.delete(name)

        threads = [threading.Thread(target=download) for _ in range(8)]
        threads.append(threading.Thread(target=remove))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert set(statuses) <= {200, 404}, (
        f"download statuses {dict(statuses)} (-1: a 200 whose body was short or never came, "
        f"e.g. {errors[:1]}): a download by name racing b2_delete_file_version got a 500 "
        "internal_error, or a 200 whose body never came (emulator endpoints.py _send_file "
        "looks the version up, then opens its blob file, which the delete removed in between: "
        "FileNotFoundError; after the 200's headers were sent, the client waits for the body)"
    )
