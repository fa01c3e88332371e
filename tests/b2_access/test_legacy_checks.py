"""The system checks of ``B2_ACCESS["legacy"]``: each id fires in the situation it names.

This module is also the URLconf of these tests: the old URLs included, as the guide says.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.urls import include, path

from b2_storage.emulator import LocalB2

LEGACY_IDS = {
    "b2_access.W004",
    "b2_access.E001",
    "b2_access.E012",
    "b2_access.E013",
    "b2_access.E014",
    "b2_access.W015",
    "b2_access.W016",
}
urlpatterns = [path("", include("b2_access.legacy.urls"))]


def legacy_ids() -> list[str]:
    """Return the ids of the legacy check messages (and W004, E001) of the current settings."""
    return sorted(m.id for m in run_checks(tags=["b2_access"]) if m.id in LEGACY_IDS)


def messages(check_id: str) -> list[str]:
    return [m.msg for m in run_checks(tags=["b2_access"]) if m.id == check_id]


@pytest.fixture
def configured(settings: Any, b2_server: LocalB2, bucket: str) -> Any:
    """Settings with the three kinds of old links on disjoint locations of one bucket."""
    options = b2_server.storage_options(bucket)
    settings.ROOT_URLCONF = __name__
    settings.STORAGES = {
        **settings.STORAGES,
        "pub": {"BACKEND": "b2_access.PublicStorage", "OPTIONS": {**options, "location": "p"}},
        "members": {
            "BACKEND": "b2_access.LoggedInStorage",
            "OPTIONS": {**options, "location": "m"},
        },
        "staff": {"BACKEND": "b2_access.StaffStorage", "OPTIONS": {**options, "location": "s"}},
    }
    settings.B2_ACCESS = {"legacy": {"public": "pub", "logged_in": "members", "staff": "staff"}}
    assert legacy_ids() == []  # nor W004: the legacy URLs live under the prefix on purpose
    return settings


def test_a_clean_legacy_configuration_has_no_message(configured: Any) -> None:
    assert legacy_ids() == []


def test_e001_an_alias_missing_from_storages(configured: Any) -> None:
    configured.B2_ACCESS = {"legacy": {"public": "gone"}}
    assert legacy_ids() == ["b2_access.E001"]


def test_e012_not_a_signed_storage(configured: Any, b2_server: LocalB2, bucket: str) -> None:
    configured.STORAGES = {
        **configured.STORAGES,
        "plain": {
            "BACKEND": "b2_storage.B2Storage",
            "OPTIONS": b2_server.storage_options("another-bucket-e012"),
        },
    }
    configured.B2_ACCESS = {"legacy": {"public": "plain", "staff": "staticfiles"}}
    assert legacy_ids() == ["b2_access.E012", "b2_access.E012"]
    assert any("is a B2Storage, not a signed B2 storage" in m for m in messages("b2_access.E012"))


def test_e012_a_storage_that_fails_to_build(configured: Any) -> None:
    configured.STORAGES = {
        **configured.STORAGES,
        "broken": {"BACKEND": "b2_access.PublicStorage", "OPTIONS": {"bogus": 1}},
    }
    configured.B2_ACCESS = {"legacy": {"public": "broken"}}
    assert "b2_access.E012" in legacy_ids()
    assert "fails to build" in messages("b2_access.E012")[0]


def test_e013_a_storage_of_another_tier(configured: Any) -> None:
    configured.B2_ACCESS = {"legacy": {"public": "staff", "staff": "staff"}}
    assert legacy_ids() == ["b2_access.E013"]
    assert "a storage of the 'staff' tier" in messages("b2_access.E013")[0]


def test_e014_a_plain_storage_inside_the_public_area(
    configured: Any, b2_server: LocalB2, bucket: str
) -> None:
    options = b2_server.storage_options(bucket)
    configured.STORAGES = {
        **configured.STORAGES,
        "pub": {"BACKEND": "b2_access.PublicStorage", "OPTIONS": options},  # the whole bucket
        "members": {
            "BACKEND": "b2_access.LoggedInStorage",
            "OPTIONS": {**options, "location": "m"},
        },
        "private": {"BACKEND": "b2_storage.B2Storage", "OPTIONS": {**options, "location": "x"}},
    }
    configured.B2_ACCESS = {"legacy": {"public": "pub"}}
    assert "b2_access.E014" in legacy_ids()
    assert "STORAGES['private']" in messages("b2_access.E014")[0]
    # A plain storage around the public area holds nothing the old links could open.
    configured.STORAGES = {
        **configured.STORAGES,
        "pub": {"BACKEND": "b2_access.PublicStorage", "OPTIONS": {**options, "location": "p"}},
        "private": {"BACKEND": "b2_storage.B2Storage", "OPTIONS": options},
    }
    assert "b2_access.E014" not in legacy_ids()


def test_w015_old_links_not_routed(configured: Any) -> None:
    configured.ROOT_URLCONF = "tests.urls"
    assert legacy_ids() == ["b2_access.W015"]


def test_w016_routed_but_not_configured(configured: Any) -> None:
    configured.B2_ACCESS = {}
    assert legacy_ids() == ["b2_access.W016"]
