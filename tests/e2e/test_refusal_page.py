"""A refused user gets the example's own styled 403 page (its ``handler403`` and ``403.html``),
with the reason, whether the owner-only view refuses or the middleware refuses a tampered link.

Django's test clients (sync and ASGI) run against the example's settings in a subprocess
(``example_client.py``); ``test_browser.py`` checks the same page once in Chromium.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from .processes import REPO, example_env

OWNER_ONLY = "This file belongs to someone else."
TAMPERED = "This link is not valid."
TITLE = "<title>Access denied · B2 access example</title>"
GO_BACK = '<a href="javascript:history.back()">Go back</a>'
STYLESHEET = '<link rel="stylesheet" href="/static/files/site.css">'
LOG_IN = '<a href="/accounts/login/">Log in</a>'
Answers = dict[str, dict[str, dict[str, Any]]]  # case -> client -> status, headers, body


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Answers:
    """Return the example's answers, by case and client (see ``example_client.py``)."""
    data = tmp_path_factory.mktemp("example-client")
    env = example_env(
        EXAMPLE_VAR_DIR=str(data),
        EXAMPLE_B2_KEY_ID="unused-key-id",  # nothing here reaches B2
        EXAMPLE_B2_KEY="unused-key",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "tests.e2e.example_client"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, f"example_client failed:\n{ran.stdout}{ran.stderr}"
    found: Answers = json.loads(ran.stdout)
    return found


def assert_styled_refusal(answer: dict[str, Any], reason: str) -> None:
    """Fail unless ``answer`` is the example's 403 page stating ``reason``."""
    body = answer["body"]
    assert answer["status"] == 403, body[:500]
    assert f'<p id="refusal-reason">{reason}</p>' in body, body
    assert TITLE in body and GO_BACK in body and STYLESHEET in body, body
    assert '<section class="refusal">' in body and 'class="brand"' in body, body


@pytest.mark.parametrize("client", ["sync", "async"])
def test_the_owner_only_view_refuses_with_the_styled_page(answers: Answers, client: str) -> None:
    answer = answers["owner-only"][client]
    assert_styled_refusal(answer, OWNER_ONLY)
    assert LOG_IN not in answer["body"]  # the refused user is logged in
    assert answer["access"] is None  # the view refused, not the middleware


@pytest.mark.parametrize("client", ["sync", "async"])
def test_a_tampered_link_is_refused_with_the_styled_page(answers: Answers, client: str) -> None:
    answer = answers["tampered"][client]
    assert_styled_refusal(answer, TAMPERED)
    assert answer["access"] == "invalid"
    assert answer["cache_control"] == "private, no-store"
    assert LOG_IN not in answer["body"]

    anonymous = answers["tampered-anonymous"][client]
    assert_styled_refusal(anonymous, TAMPERED)  # refused, not sent to log in: it is forged
    assert LOG_IN in anonymous["body"]
