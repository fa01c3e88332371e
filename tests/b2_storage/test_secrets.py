"""No secret on Django's DEBUG error page or in a B2 error's chain (DESIGN.md, Failure contract).

A translated error keeps no b2sdk exception as its cause or context: b2sdk's frames hold the
application key (``authorize_account(realm, application_key_id, application_key)``) and tokens as
local variables, and Django's technical 500 page and error trackers show frame locals.
"""

from __future__ import annotations

import html
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from b2_storage import B2AccessRefused, B2Storage, B2StorageError, B2Unavailable
from b2_storage.account_info import DjangoCacheAccountInfo, make_account_info
from b2_storage.emulator import LocalB2

FILE = "reports/q3.txt"
# Enough to find the bucket, read and list, but not writeFiles.
NO_WRITE = ["listBuckets", "listFiles", "readFiles", "shareFiles", "deleteFiles"]


@dataclass
class Setup:
    """A storage whose next ``save(FILE)`` fails, and the secrets it holds."""

    storage: B2Storage
    secrets: list[str]


def account_token(storage: B2Storage) -> str:
    return str(storage.client.api.account_info.get_account_auth_token())


def wrong_key(b2_server: LocalB2, bucket: str) -> Setup:
    """A valid key id (never authorized in this process) with a key that is not its own."""
    key_id, real_key = b2_server.create_key(["listBuckets", "listFiles", "readFiles", "writeFiles"])
    wrong = "K" + secrets.token_urlsafe(22)[:30]  # shaped like a real key
    options = b2_server.storage_options(bucket, application_key_id=key_id, application_key=wrong)
    return Setup(B2Storage(**options), [wrong, real_key])


def b2_down(b2_server: LocalB2, bucket: str) -> Setup:
    """The session's master key, authorized, then every upload answered 503."""
    storage = B2Storage(**b2_server.storage_options(bucket))
    storage.save("warm-up.txt", ContentFile(b"warm"))
    b2_server.fail_next("b2_upload_file", 50, status=503, retry_after=0)
    return Setup(storage, [b2_server.application_key, account_token(storage)])


def no_write(b2_server: LocalB2, bucket: str) -> Setup:
    """A key that may read and list the bucket but not write to it (authorized already)."""
    key_id, key = b2_server.create_key(NO_WRITE, bucket=bucket)
    storage = B2Storage(
        **b2_server.storage_options(bucket, application_key_id=key_id, application_key=key)
    )
    assert not storage.exists("warm-up.txt")
    return Setup(storage, [key, account_token(storage)])


SCENARIOS: dict[str, tuple[Callable[[LocalB2, str], Setup], type[B2StorageError]]] = {
    "wrong key": (wrong_key, B2AccessRefused),
    "B2 down": (b2_down, B2Unavailable),
    "no writeFiles": (no_write, B2AccessRefused),
}


@pytest.fixture
def bucket_name(b2_server: LocalB2) -> str:
    name = f"secrets-{uuid.uuid4().hex[:20]}"
    b2_server.create_bucket(name)
    return name


@dataclass
class Failure:
    """What a failing ``save(FILE)`` raised, the type it should be, and the secrets around it."""

    raised: pytest.ExceptionInfo[B2StorageError]
    expected: type[B2StorageError]
    secrets: list[str]


def save_fails(storage: B2Storage) -> pytest.ExceptionInfo[B2StorageError]:
    """Save ``FILE`` and return how it failed (the page shows this frame, which holds no secret)."""
    with pytest.raises(B2StorageError) as raised:
        storage.save(FILE, ContentFile(b"quarterly numbers"))
    return raised


@pytest.fixture(params=list(SCENARIOS))
def failed(request: pytest.FixtureRequest, b2_server: LocalB2, bucket_name: str) -> Failure:
    """Return how ``save(FILE)`` failed in the scenario."""
    make, expected = SCENARIOS[request.param]
    setup = make(b2_server, bucket_name)
    return Failure(save_fails(setup.storage), expected, setup.secrets)


def error_pages(raised: pytest.ExceptionInfo[BaseException], skip: int = 0) -> tuple[str, str]:
    """Return Django's technical 500 page for ``raised`` (less ``skip`` outer frames), as HTML
    and as text."""
    tb = raised.tb
    for _ in range(skip):
        assert tb.tb_next is not None
        tb = tb.tb_next
    request = RequestFactory().post("/upload/", {"title": "q3"})
    reporter = ExceptionReporter(request, raised.type, raised.value, tb)
    return reporter.get_traceback_html(), reporter.get_traceback_text()


def test_debug_page_shows_no_secret(settings: Any, failed: Failure) -> None:
    settings.DEBUG = True
    raised = failed.raised
    page_html, page_text = error_pages(raised)
    for secret in failed.secrets:
        assert secret not in page_html
        assert secret not in page_text
    # b2sdk's frames hold the key and tokens as locals: none of them is on the page.
    assert "b2sdk/_internal" not in page_html + page_text
    # ... and the page still says what failed, on which file or bucket, and where.
    message = str(raised.value)
    assert message in page_text
    assert html.escape(message) in page_html
    assert type(raised.value).__name__ in page_text
    assert "in save" in page_text


def test_error_keeps_no_b2sdk_exception(failed: Failure) -> None:
    error = failed.raised.value
    assert isinstance(error, failed.expected)
    # Neither chain, whatever __suppress_context__ says (Django and trackers walk both).
    assert error.__cause__ is None
    assert error.__context__ is None
    assert type(error).__module__ == "b2_storage.exceptions"
    message = str(error)
    for secret in failed.secrets:
        assert secret not in message
        assert secret not in repr(error)


def test_wrong_key_is_refused_with_b2s_message(b2_server: LocalB2, bucket_name: str) -> None:
    error = save_fails(wrong_key(b2_server, bucket_name).storage).value
    assert isinstance(error, B2AccessRefused)
    message = str(error)
    assert message.startswith(f"B2 refused the application key for {bucket_name!r}: ")
    assert "bad_auth_token" in message
    assert "Server could not verify key." in message  # B2's own words
    assert message.endswith(
        "The key is set in the storage's 'application_key_id' and 'application_key' options."
    )


def test_missing_capability_is_refused_with_b2s_message(
    b2_server: LocalB2, bucket_name: str
) -> None:
    storage = no_write(b2_server, bucket_name).storage
    error = save_fails(storage).value
    assert isinstance(error, B2AccessRefused)
    message = str(error)
    assert message.startswith(f"B2 refused the application key for {FILE!r}: unauthorized: ")
    assert "The key does not have the writeFiles capability." in message
    assert message.count(" for application key ") <= 1  # b2sdk's note on the key, once
    assert not storage.exists(FILE)


def test_unavailable_names_b2s_status_and_keeps_retry_after(
    b2_server: LocalB2, bucket_name: str
) -> None:
    setup = b2_down(b2_server, bucket_name)
    b2_server.clear_faults()
    b2_server.fail_next("b2_list_file_names", 50, status=503, retry_after=7)
    with pytest.raises(B2Unavailable) as raised:
        setup.storage.listdir("")
    assert raised.value.retry_after == 7
    message = str(raised.value)
    assert "ServiceError" in message
    assert "503 service_unavailable" in message


@pytest.mark.parametrize("broken", ["sqlite path", "constructor"])
def test_error_report_hides_the_key_in_account_info_frames(
    settings: Any, tmp_path: Path, broken: str
) -> None:
    # sensitive_variables only applies when DEBUG is off (error e-mails, logged reports).
    settings.DEBUG = False
    key = "K" + secrets.token_urlsafe(22)[:30]
    with pytest.raises((OSError, UnicodeError)) as raised:
        if broken == "sqlite path":  # fails below make_account_info's frame
            options = {"backend": "sqlite", "path": str(tmp_path / "no" / "a.db")}
            make_account_info(options, "http://127.0.0.1:9", "0012345678", key)
        else:  # fails in the constructor's frame (called directly: no decorated caller)
            DjangoCacheAccountInfo("b2", "http://\ud800", "0012345678", key)
    page_html, page_text = error_pages(raised, skip=1)  # this test's frame holds the key itself
    assert ("make_account_info" if broken == "sqlite path" else "__init__") in page_html
    assert key not in page_html
    assert key not in page_text
