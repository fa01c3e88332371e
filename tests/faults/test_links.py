"""Signed-link clicks while B2 misbehaves: storms of 503 and 429 on the calls a cold click makes
(``b2_get_download_authorization``, and ``b2_list_file_names`` for the sealed-name check), and a
B2 that is stopped and started again.

A click answers 302 to B2 (after retries) or 503 with ``Retry-After``: never 500.
"""

from __future__ import annotations

import time

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client

from b2_access import PublicStorage
from b2_storage.circuit import circuits
from b2_storage.emulator import LocalB2

from .conftest import clear_token_caches

AUTH = "b2_get_download_authorization"
LIST = "b2_list_file_names"
BOUND = 15  # seconds: a click gives up within this
pytestmark = pytest.mark.usefixtures("cold_tokens")


def signed_link(server: LocalB2, bucket: str, name: str, data: bytes) -> str:
    storage = PublicStorage(**server.storage_options(bucket))
    assert storage.save(name, ContentFile(data)) == name
    return storage.url(name)


def click(link: str) -> tuple[int, dict[str, str], float]:
    started = time.monotonic()
    response = Client().get(link)
    headers = {key: value for key, value in response.items()}
    return response.status_code, headers, time.monotonic() - started


def assert_redirect_or_unavailable(status: int, headers: dict[str, str], server: LocalB2) -> None:
    assert status in (302, 503), f"a click answered {status}, expected 302 or 503"
    assert headers["Cache-Control"] in ("private, no-store", "no-store")
    if status == 302:
        assert headers["Location"].startswith(f"{server.realm}/file/")
        assert headers["Referrer-Policy"] == "no-referrer"
    else:
        assert headers["Retry-After"].isdigit(), headers
        assert int(headers["Retry-After"]) >= 1


def assert_opens(headers: dict[str, str], data: bytes) -> None:
    assert requests.get(headers["Location"], timeout=10).content == data


@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.parametrize("api", [AUTH, LIST])
@pytest.mark.parametrize("storm", [1, 3])
def test_click_during_a_storm(b2: LocalB2, bucket: str, api: str, status: int, storm: int) -> None:
    link = signed_link(b2, bucket, "doc.txt", b"storm")
    b2.fail_next(api, storm, status=status, retry_after=0)
    answer, headers, took = click(link)
    assert took < BOUND
    assert_redirect_or_unavailable(answer, headers, b2)
    b2.clear_faults()  # the storm passes: the next click is redirected
    for _ in range(2):  # (the first may be the probe of B2 that a 503 made busy)
        answer, headers, _took = click(link)
        if answer == 302:
            break
    assert answer == 302, headers
    assert_opens(headers, b"storm")


def test_click_during_a_long_storm_passes_retry_after(b2: LocalB2, bucket: str) -> None:
    link = signed_link(b2, bucket, "long.txt", b"long")
    b2.fail_next(AUTH, 50, status=503, retry_after=7)
    answer, headers, _took = click(link)
    assert answer == 503
    assert 1 <= int(headers["Retry-After"]) <= 60, headers
    assert "Location" not in headers


def test_click_while_b2_is_stopped_then_restarted(restartable: LocalB2) -> None:
    b2 = restartable
    bucket = "stopped-links"
    b2.create_bucket(bucket)
    link = signed_link(b2, bucket, "stop/doc.txt", b"back again")
    clear_token_caches()
    port = b2.port
    b2.stop()
    for _ in range(3):  # every click, not only the first, answers 503 at once
        answer, headers, took = click(link)
        assert answer == 503, headers
        assert int(headers["Retry-After"]) >= 1
        assert took < BOUND
    b2.start()
    assert b2.port == port  # the same realm: the storage's settings still point at it
    answer, headers, _took = click(link)  # during the back-off: 503 again, or B2 already
    assert_redirect_or_unavailable(answer, headers, b2)
    circuits.clear()  # stands for the back-off passing (tests do not sleep)
    answer, headers, _took = click(link)
    assert answer == 302, headers
    assert_opens(headers, b"back again")
