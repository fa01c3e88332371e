"""A click costs bounded time when B2 hangs or is down: 503 with ``Retry-After`` within the
storage's ``link_timeout``, then at once while the account's circuit is open, one probe after
the back-off, and redirects again once B2 answers.

Real sockets (a hung server that counts its connections, a closed port, a local B2 server
stopped and started); the circuit's clock is injected instead of waiting out its back-off.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client

from b2_access import SignedB2Storage
from b2_storage import B2Unavailable
from b2_storage.circuit import BACKOFF, circuits
from b2_storage.emulator import LocalB2
from tests.b2_storage.test_bounded_time import (
    KEY,
    KEY_ID,
    FakeClock,
    HungB2,
    clock,
    closed_port_realm,
    hung,
)

from .conftest import Fetch, put

BOUND = 20.0  # seconds: the safety bound of a click on a broken B2
FAST = 1.0  # seconds: "at once" (no B2 call)


def signed_on(realm: str, **options: Any) -> SignedB2Storage:
    """Return a public-tier signed storage of a never-authorized account on ``realm``."""
    return SignedB2Storage(
        application_key_id=KEY_ID,
        application_key=KEY,
        bucket="docs",
        realm=realm,
        tier="public",
        **options,
    )


def timed_click(fetch: Callable[..., Any], link: str) -> tuple[float, Any]:
    started = time.monotonic()
    response = fetch(link)
    return time.monotonic() - started, response


def assert_503(response: Any) -> int:
    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    return retry_after


def test_a_click_on_a_hung_b2_answers_503_in_bounded_time(fetch: Fetch, hung: HungB2) -> None:
    storage = signed_on(hung.realm)  # the defaults: link_timeout 10 s
    took, response = timed_click(fetch, storage.url("a.txt"))
    assert_503(response)
    assert took < 15.0  # the target for a click with the default options
    assert hung.accepted == 1
    took, response = timed_click(fetch, storage.url("b.txt"))
    assert assert_503(response) <= BACKOFF
    assert took < FAST
    assert hung.accepted == 1  # the circuit is open: B2 was not contacted


def test_a_click_on_a_closed_port_answers_503_at_once(fetch: Fetch) -> None:
    storage = signed_on(closed_port_realm())
    for name in ("a.txt", "b.txt", "c.txt"):
        took, response = timed_click(fetch, storage.url(name))
        assert assert_503(response) == BACKOFF
        assert took < 5  # b2sdk alone: 8.2 s of back-off sleeps, on every click


def test_after_the_backoff_one_click_probes_and_the_others_answer_at_once(
    hung: HungB2, clock: Callable[..., FakeClock]
) -> None:
    fake = clock(hung.realm)
    storage = signed_on(hung.realm, link_timeout=1.5)
    assert_503(Client().get(storage.url("a.txt")))
    assert hung.accepted == 1
    fake.advance(BACKOFF)
    answers: list[Any] = []
    probe = threading.Thread(target=lambda: answers.append(Client().get(storage.url("a.txt"))))
    probe.start()
    assert hung.wait_for(2)  # the probe reached B2 and waits for its answer
    took, response = timed_click(Client().get, storage.url("b.txt"))
    assert assert_503(response) == 1  # a probe is out: try again in a second
    assert took < FAST
    probe.join(BOUND)
    assert assert_503(answers[0]) == 2 * BACKOFF  # the probe failed: the back-off doubled
    assert hung.accepted == 2


def test_clicks_redirect_again_when_b2_comes_back(
    tmp_path: Path, clock: Callable[..., FakeClock]
) -> None:
    with LocalB2(data_dir=tmp_path, buckets=["comes-back"]) as server:
        fake = clock(server.realm, server.application_key_id)
        storage = SignedB2Storage(**server.storage_options("comes-back", tier="public"))
        put(storage, "a.txt", b"back")
        put(storage, "b.txt", b"back")
        server.stop()
        started = time.monotonic()
        assert_503(Client().get(storage.url("a.txt")))
        assert time.monotonic() - started < BOUND
        server.start()
        assert_503(Client().get(storage.url("a.txt")))  # the back-off still runs
        circuit = circuits.get(server.realm, server.application_key_id)
        fake.advance(math.ceil(circuit.retry_after()))
        response = Client().get(storage.url("b.txt"))
        assert response.status_code == 302
        assert requests.get(response["Location"], timeout=BOUND).content == b"back"
        assert circuit.state == "closed"


def test_a_503_storm_on_a_healthy_b2_never_gives_500(
    fetch: Fetch, storage: SignedB2Storage, b2_server: LocalB2, user: Any
) -> None:
    name = put(storage, "storm.txt", b"storm")
    link = storage.signed_url(name, attachment=True)
    b2_server.fail_next("b2_get_download_authorization", 3, status=503, retry_after=0)
    statuses = [fetch(link, user=user).status_code for _ in range(5)]
    assert set(statuses) <= {302, 503}
    assert statuses[-1] == 302
    assert circuits.get(b2_server.realm, b2_server.application_key_id).state == "closed"


def test_a_storage_on_a_hung_b2_does_not_slow_another_account(
    hung: HungB2, storage: SignedB2Storage, b2_server: LocalB2, user: Any
) -> None:
    broken = signed_on(hung.realm, link_timeout=1.5)
    assert_503(Client().get(broken.url("a.txt")))
    name = put(storage, "fine.txt", b"fine")
    client = Client()
    client.force_login(user)
    assert client.get(storage.signed_url(name)).status_code == 302


def test_saved_file_on_a_hung_b2_raises_unavailable(hung: HungB2) -> None:
    storage = signed_on(hung.realm, read_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(B2Unavailable):
        storage.save("a.txt", ContentFile(b"a"))
    assert time.monotonic() - started < BOUND
