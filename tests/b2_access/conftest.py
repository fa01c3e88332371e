"""Fixtures for the b2_access tests: a bucket on the session's local B2 server, signed storages
on it with files, users of each kind, and token caches emptied around every test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.test import AsyncClient, Client

from b2_access import SignedB2Storage
from b2_access.resolver import shared_authorizer
from b2_storage.emulator import LocalB2
from tests.services import redis_url  # noqa: F401 - a fixture for the Redis tests

MakeStorage = Callable[..., SignedB2Storage]
Fetch = Callable[..., Any]


def clear_token_caches() -> None:
    """Forget every cached B2 download token: in this process and in the shared cache."""
    shared_authorizer().clear()
    caches["default"].clear()


@pytest.fixture(autouse=True)
def _cold_token_caches() -> Iterator[None]:
    clear_token_caches()
    yield
    clear_token_caches()


def new_bucket(server: LocalB2, bucket_type: str = "allPrivate") -> str:
    """Create a bucket with a fresh name on ``server``; return the name."""
    name = f"acc-{uuid.uuid4().hex[:20]}"
    server.create_bucket(name, bucket_type)
    return name


@pytest.fixture
def bucket(b2_server: LocalB2) -> str:
    """Return the name of a new, empty private bucket of the session's server."""
    return new_bucket(b2_server)


@pytest.fixture
def make_storage(b2_server: LocalB2, bucket: str) -> MakeStorage:
    """Return ``make(cls=SignedB2Storage, **options)``: a signed storage on ``bucket``."""

    def make(cls: type[SignedB2Storage] = SignedB2Storage, **options: Any) -> SignedB2Storage:
        return cls(**b2_server.storage_options(options.pop("bucket", bucket), **options))

    return make


@pytest.fixture
def storage(make_storage: MakeStorage) -> SignedB2Storage:
    """Return a ``logged_in`` signed storage on ``bucket``."""
    return make_storage(tier="logged_in")


def put(storage: SignedB2Storage, name: str, data: bytes) -> str:
    """Save ``data`` as exactly ``name`` (the test picks unique names); return the name."""
    saved = storage.save(name, ContentFile(data))
    assert saved == name
    return saved


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw")


@pytest.fixture
def staff_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("carol", password="pw", is_staff=True)


@pytest.fixture(params=["sync", "async"])
def fetch(request: pytest.FixtureRequest, db: None) -> Fetch:
    """Return ``fetch(path, user=None, method="get", **extra)`` through Django's test client
    (``sync``) or its ASGI test client (``async``), logged in as ``user`` when given."""
    kind = request.param

    def call(path: str, user: Any = None, method: str = "get", **extra: Any) -> Any:
        if kind == "sync":
            client = Client()
            if user is not None:
                client.force_login(user)
            return getattr(client, method)(path, **extra)
        aclient = AsyncClient()
        if user is not None:
            aclient.force_login(user)
        return async_to_sync(getattr(aclient, method))(path, **extra)

    call.kind = kind  # type: ignore[attr-defined]
    return call
