"""Fixtures for the B2Storage tests: a local B2 server with small parts, buckets and storages."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from b2sdk.v2 import B2Api, Bucket, InMemoryAccountInfo

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2

PART = 200_000  # the storages' part size; the server's minimum is 100 kB

MakeBucket = Callable[..., str]
MakeStorage = Callable[..., B2Storage]


def payload(size: int, seed: int = 0) -> bytes:
    """Return ``size`` deterministic pseudo-random bytes."""
    return random.Random(size * 7919 + seed).randbytes(size)


@pytest.fixture(scope="session")
def small_parts_server() -> Iterator[LocalB2]:
    """A local B2 server for the session whose large files may use 100 kB parts."""
    with LocalB2(min_part_size=100_000, recommended_part_size=PART) as server:
        yield server


@pytest.fixture
def b2(small_parts_server: LocalB2) -> Iterator[LocalB2]:
    """Return the small-parts server with its call counts reset and no pending faults."""
    small_parts_server.reset_calls()
    small_parts_server.clear_faults()
    yield small_parts_server
    small_parts_server.clear_faults()


@pytest.fixture(scope="session")
def sdk(small_parts_server: LocalB2) -> B2Api:
    """Return a b2sdk client of its own (in-memory account info) to look behind the storage."""
    api = B2Api(InMemoryAccountInfo())
    server = small_parts_server
    api.authorize_account(server.realm, server.application_key_id, server.application_key)
    return api


@pytest.fixture
def make_bucket(b2: LocalB2) -> MakeBucket:
    """Return a function creating a bucket with a fresh name; it returns the name."""

    def make(bucket_type: str = "allPrivate") -> str:
        name = f"t-{uuid.uuid4().hex[:24]}"
        b2.create_bucket(name, bucket_type)
        return name

    return make


@pytest.fixture
def bucket(make_bucket: MakeBucket) -> str:
    """Return the name of a new, empty private bucket."""
    return make_bucket()


@pytest.fixture
def make_storage(b2: LocalB2, bucket: str) -> MakeStorage:
    """Return a function building a B2Storage on ``bucket`` (part size PART) with options."""

    def make(**options: Any) -> B2Storage:
        options = {"part_size": PART, **options}
        return B2Storage(**b2.storage_options(options.pop("bucket", bucket), **options))

    return make


@pytest.fixture
def sdk_bucket(sdk: B2Api, bucket: str) -> Bucket:
    """Return ``bucket`` as a b2sdk Bucket of the independent client."""
    return sdk.get_bucket_by_name(bucket)
