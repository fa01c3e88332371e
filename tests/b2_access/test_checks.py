"""System checks: each id fires in the situation it names, and a clean configuration has none."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.checks import run_checks
from django.http import HttpRequest, HttpResponse
from django.urls import path

from b2_access import LoggedInStorage, SignedB2Storage
from b2_storage.emulator import LocalB2

from .conftest import new_bucket

AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
ACCESS = "b2_access.middleware.B2AccessMiddleware"
SIMPLE = {"BACKEND": "django.core.files.storage.InMemoryStorage"}


def _view(request: HttpRequest, rest: str) -> HttpResponse:
    return HttpResponse(rest)


# This module is also the URLconf of the W004 test: a pattern under the middleware's prefix.
urlpatterns = [path("b2/<path:rest>", _view)]


def ids(deploy: bool = False) -> list[str]:
    """Return the ids of the b2_access check messages of the current settings."""
    messages = run_checks(tags=["b2_access"], include_deployment_checks=deploy)
    return sorted(m.id for m in messages if m.id and m.id.startswith("b2_access."))


@pytest.fixture(autouse=True)
def _own_storage_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Check only the signed storages this test creates (the registry is process-wide)."""
    monkeypatch.setattr("b2_access.storages._registry", {})
    monkeypatch.setattr("b2_access.storages._instances", weakref.WeakValueDictionary())
    yield


@pytest.fixture
def clean(settings: Any, b2_server: LocalB2, bucket: str) -> Any:
    """Settings with nothing to report: the test settings plus a signed storage in STORAGES."""
    settings.STORAGES = {
        "default": {
            "BACKEND": "b2_access.LoggedInStorage",
            "OPTIONS": b2_server.storage_options(bucket),
        },
        "staticfiles": SIMPLE,
    }
    assert ids(deploy=True) == []
    return settings


def test_a_clean_configuration_has_no_message(clean: Any) -> None:
    assert ids() == []
    all_ids = [m.id for m in run_checks(include_deployment_checks=True)]
    assert not [i for i in all_ids if i and i.startswith("b2_access.")]


@pytest.mark.parametrize(
    "raw",
    [
        {"bogus": 1},
        {"expires": "300"},
        {"expires": 0},
        {"url_prefix": "b2"},
        {"url_prefix": "/"},
        {"min_remaining": 3600},
        {"token_lifetime": 10**7},
        {"expires": True},
    ],
)
def test_e001_bad_b2_access(clean: Any, raw: dict[str, Any]) -> None:
    clean.B2_ACCESS = raw
    messages = run_checks(tags=["b2_access"])
    e001 = [m for m in messages if m.id == "b2_access.E001"]
    assert len(e001) == 1
    assert "B2_ACCESS" in e001[0].msg


def test_e002_middleware_missing(clean: Any) -> None:
    clean.MIDDLEWARE = [SESSIONS, AUTH]
    assert ids() == ["b2_access.E002"]


@pytest.mark.parametrize("middleware", [[SESSIONS, ACCESS, AUTH], [SESSIONS, ACCESS]])
def test_e003_middleware_before_authentication(clean: Any, middleware: list[str]) -> None:
    clean.MIDDLEWARE = middleware
    assert ids() == ["b2_access.E003"]


def test_w004_prefix_shadows_a_url_pattern(clean: Any) -> None:
    clean.ROOT_URLCONF = __name__
    assert ids() == ["b2_access.W004"]
    clean.B2_ACCESS = {"url_prefix": "/files/"}
    assert ids() == []


@pytest.mark.parametrize(
    "options",
    [{"tier": 5}, {"bogus": True}, {"expires": 0}, {"attachment": "yes"}, {"scope": None}],
)
def test_e005_bad_signed_storage_options(
    clean: Any, b2_server: LocalB2, bucket: str, options: dict[str, Any]
) -> None:
    clean.STORAGES = {
        **clean.STORAGES,
        "media": {
            "BACKEND": "b2_access.SignedB2Storage",
            "OPTIONS": b2_server.storage_options(bucket, **options),
        },
    }
    messages = [m for m in run_checks(tags=["b2_access"]) if m.id == "b2_access.E005"]
    assert len(messages) == 1
    assert "STORAGES['media']" in messages[0].msg
    assert b2_server.application_key not in messages[0].msg


def test_e006_cache_alias_missing(clean: Any) -> None:
    clean.B2_ACCESS = {"cache": "tokens"}
    assert ids() == ["b2_access.E006"]
    clean.B2_ACCESS = {"cache": None}
    assert ids() == []


def test_e007_unknown_tier(clean: Any, b2_server: LocalB2) -> None:
    storage = SignedB2Storage(**b2_server.storage_options(new_bucket(b2_server), tier="nope"))
    messages = [m for m in run_checks(tags=["b2_access"]) if m.id == "b2_access.E007"]
    assert len(messages) == 1
    assert "'nope'" in messages[0].msg and "logged_in" in messages[0].msg
    assert storage.access.tier == "nope"


def test_e007_unknown_tier_in_storages(clean: Any, b2_server: LocalB2) -> None:
    clean.STORAGES = {
        **clean.STORAGES,
        "media": {
            "BACKEND": "b2_access.SignedB2Storage",
            "OPTIONS": b2_server.storage_options(new_bucket(b2_server), tier="nope"),
        },
    }
    assert ids() == ["b2_access.E007"]


def test_e008_account_info_cache_missing(clean: Any, b2_server: LocalB2) -> None:
    LoggedInStorage(
        **b2_server.storage_options(
            new_bucket(b2_server),
            account_info={"backend": "django-cache", "cache": "nowhere"},
        )
    )
    assert ids() == ["b2_access.E008"]


def test_w009_signed_links_to_a_public_bucket(clean: Any, b2_server: LocalB2) -> None:
    LoggedInStorage(**b2_server.storage_options(new_bucket(b2_server, "allPublic")))
    assert ids() == []  # contacts B2: deployment checks only
    assert ids(deploy=True) == ["b2_access.W009"]


def test_checks_make_no_b2_call_outside_deploy(clean: Any, b2_server: LocalB2) -> None:
    LoggedInStorage(**b2_server.storage_options(new_bucket(b2_server)))
    b2_server.reset_calls()
    assert ids() == []
    assert sum(b2_server.calls.values()) == 0
