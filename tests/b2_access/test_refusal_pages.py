"""Refusals are rendered by the project's own ``handler403`` (so its ``403.html`` applies),
sync and async, and Django does not log their paths (a signed link must not reach logs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from b2_access import SignedB2Storage, StaffStorage

from .conftest import Fetch, MakeStorage


def templates_in(directory: Path) -> list[dict[str, Any]]:
    return [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [str(directory)],
            "APP_DIRS": True,
        }
    ]


def test_a_projects_403_html_renders_the_refusal(
    fetch: Fetch, make_storage: MakeStorage, user: Any, tmp_path: Path
) -> None:
    (tmp_path / "403.html").write_text("<main>Project page: {{ exception }}</main>")
    link = make_storage(StaffStorage).url("staff/only.txt")
    with override_settings(TEMPLATES=templates_in(tmp_path)):
        response = fetch(link, user=user)
    assert response.status_code == 403
    assert response["X-B2-Access"] == "tier"
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    assert page == "<main>Project page: Your account may not open this file.</main>"


@override_settings(ROOT_URLCONF="tests.b2_access.pages.urls")
def test_a_projects_handler403_answers_even_under_asgi(
    fetch: Fetch, storage: SignedB2Storage
) -> None:
    response = fetch(storage.url("x.txt").replace("/b2/", "/b2/A", 1))
    assert response.status_code == 403
    assert response.content.decode() == "project 403 (0 users): This link is not valid."
    assert response["X-B2-Access"] == "invalid"


def test_without_a_403_page_the_reason_is_still_shown(
    fetch: Fetch, storage: SignedB2Storage
) -> None:
    response = fetch(storage.url("x.txt").replace("/b2/", "/b2/A", 1))
    assert response.status_code == 403
    assert "This link is not valid." in response.content.decode()


def test_refusals_do_not_log_the_signed_link(
    fetch: Fetch, storage: SignedB2Storage, caplog: pytest.LogCaptureFixture
) -> None:
    link = storage.url("x.txt")
    token = link.split("/")[2]
    with caplog.at_level(logging.DEBUG):
        assert fetch(link.replace("/b2/", "/b2/A", 1)).status_code == 403
        assert fetch(link, method="post").status_code == 405
    assert caplog.records and token not in caplog.text
