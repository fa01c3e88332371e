"""b2sdk's exceptions translated into ours, in one place, and the retry b2sdk leaves out.

Imports b2sdk through ``b2sdk.v2`` only, like :mod:`.client` and :mod:`.account_info`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

from b2sdk.v2 import REALM_URLS
from b2sdk.v2.exception import (
    AccessDenied,
    AlreadyFailed,
    B2ConnectionError,
    B2Error,
    B2RequestTimeout,
    ConnectionReset,
    FileNotPresent,
    MaxRetriesExceeded,
    NonExistentBucket,
    RequestTimeout,
    ServiceError,
    TooManyRequests,
    Unauthorized,
    UnknownError,
)

from .exceptions import (
    B2AccessRefused,
    B2ConfigurationError,
    B2FileNotFound,
    B2StorageError,
    B2Unavailable,
    B2UploadFailed,
)

T = TypeVar("T")
UNAVAILABLE = (
    B2ConnectionError,
    B2RequestTimeout,
    ConnectionReset,
    MaxRetriesExceeded,
    ServiceError,
    TooManyRequests,
)
MAX_THROTTLE_WAIT = 10.0
# What the first failure of a large upload said, as b2sdk's AlreadyFailed repeats it.
TRANSIENT = re.compile(
    r"\b(429|5\d\d)\b|service_unavailable|too_many_requests|[Cc]onnection|Gave up"
)
STATUS_AND_CODE = re.compile(r"\d{3} [a-z_]+\b")
STATUS_IN_TEXT = (RequestTimeout, ServiceError, UnknownError)
KEY_NOTE = " for application key "


class B2GaveUp(B2ConnectionError):  # type: ignore[misc]
    """What :mod:`.transport` raises instead of asking B2 (the account's circuit is open, or
    the operation ran out of time): b2sdk must neither retry it nor sleep before doing so."""

    def __init__(self, why: str, retry_after: int) -> None:
        super().__init__(why)
        self.retry_after_seconds = retry_after

    def should_retry_http(self) -> bool:
        return False

    def should_retry_upload(self) -> bool:
        return False


def give_up(why: str, retry_after: int) -> B2GaveUp:
    """Return the error that stops b2sdk's retries of an attempt not sent to B2."""
    return B2GaveUp(why, retry_after)


def is_busy(exc: BaseException) -> bool:
    """Return whether B2 answered 5xx past b2sdk's retries (reachable, but failing)."""
    if isinstance(exc, MaxRetriesExceeded) and exc.exception_info_list:
        return is_busy(exc.exception_info_list[-1])
    return isinstance(exc, ServiceError)


@contextmanager
def translate_errors(name: str, on_busy: Callable[[], None] | None = None) -> Iterator[None]:
    """Turn b2sdk's exceptions about ``name`` into ours (the one place that does).

    Unlike ``raise ... from exc`` elsewhere, our exception keeps no b2sdk exception as its cause or
    context: b2sdk's frames hold the application key and tokens as local variables (its
    ``authorize_account(realm, application_key_id, application_key)``, its re-authorization), and
    Django's DEBUG page and error trackers show the locals of every chained exception's frames.
    Our message names b2sdk's class and B2's status and code instead (:func:`describe`).
    ``on_busy`` is told when B2 answered 5xx past retries (the account's circuit).
    """
    error: B2StorageError | None = None
    try:
        yield
    except B2Error as exc:
        error = translate(name, exc)
        if on_busy is not None and is_busy(exc):
            on_busy()
    if error is not None:
        raise_alone(error)


def translate(name: str, exc: B2Error) -> B2StorageError:
    """Return our exception for b2sdk's ``exc`` about ``name``."""
    refusal = refusal_of(exc)
    if refusal is not None:
        return B2AccessRefused(
            f"B2 refused the application key for {name!r}: {refusal} (b2sdk {describe(exc)})",
            hint=f"Give the key a name prefix that covers {name!r} (or none), on this bucket, "
            "with the capabilities the storage needs: `manage.py b2doctor` checks both.",
        )
    if isinstance(exc, FileNotPresent):
        return B2FileNotFound(name)
    if isinstance(exc, NonExistentBucket):
        return B2ConfigurationError(
            f"The B2 bucket {name!r} does not exist (set the 'create_bucket' option to create it)."
        )
    if isinstance(exc, B2GaveUp):
        error = B2Unavailable(f"B2 is unavailable for {name!r}: {exc.args[0]}; not asked.")
        error.retry_after = int(exc.retry_after_seconds)
        return error
    if isinstance(exc, UNAVAILABLE):
        error = B2Unavailable(
            f"B2 could not be reached while handling {name!r} (b2sdk {describe(exc)})."
        )
        retry_after = getattr(exc, "retry_after_seconds", None)
        if isinstance(retry_after, (int, float)) and retry_after > 0:
            error.retry_after = int(retry_after)  # B2's own hint, passed on to the 503
        return error
    if isinstance(exc, AlreadyFailed):  # another part of a large upload failed first
        if TRANSIENT.search(str(exc)):
            return B2Unavailable(
                f"B2 could not be reached while uploading {name!r} (b2sdk AlreadyFailed)."
            )
        return B2UploadFailed(
            f"The upload of {name!r} failed; nothing of it is visible (b2sdk AlreadyFailed)."
        )
    return B2StorageError(f"B2 refused an operation on {name!r} (b2sdk {describe(exc)}).")


def raise_alone(error: B2StorageError) -> NoReturn:
    """Raise ``error`` with no ``__context__``.

    Raising after the ``except`` block is not enough here: a ``@contextmanager`` generator runs
    inside the ``with`` statement's own handling of b2sdk's exception, so Python would still
    chain that exception as the context of ours.
    """
    try:
        raise error
    finally:
        error.__context__ = None


def refusal_of(exc: B2Error) -> str | None:
    """Return B2's code and message when ``exc`` means B2 refused our key, else ``None``.

    An upload retries a 401 five times, then b2sdk reports ``MaxRetriesExceeded`` around it.
    """
    if isinstance(exc, MaxRetriesExceeded) and exc.exception_info_list:
        last = exc.exception_info_list[-1]
        return refusal_of(last) if isinstance(last, B2Error) else None
    if isinstance(exc, Unauthorized):  # InvalidAuthToken too: b2sdk renews expired tokens
        if not exc.message:
            return str(exc.code)
        # B2's words, and b2sdk's note on the key's capabilities and buckets (added once per
        # nested retry, so the same note may come twice): never the key or a token.
        said, *notes = str(exc.message).split(KEY_NOTE)
        return f"{exc.code}: {said}" + "".join(KEY_NOTE + note for note in dict.fromkeys(notes))
    if isinstance(exc, AccessDenied):
        return f"access_denied: {exc}"  # b2sdk's fixed text
    return None


def describe(exc: B2Error) -> str:
    """Return b2sdk's class of ``exc`` and B2's status and code, never a message that might hold
    a token (b2sdk's ``UploadTokenUsedConcurrently`` quotes one)."""
    if isinstance(exc, MaxRetriesExceeded) and exc.exception_info_list:
        last = exc.exception_info_list[-1]
        return f"{type(exc).__name__} after {exc.limit} tries, the last {describe(last)}"
    said = None
    if isinstance(exc, STATUS_IN_TEXT) and exc.args:  # b2sdk's text: "<status> <code> <message>"
        answer = STATUS_AND_CODE.match(str(exc.args[0]))
        said = answer and answer.group(0)
    elif isinstance(getattr(exc, "code", None), str):  # BadRequest, Unauthorized
        said = exc.code
    return f"{type(exc).__name__}: {said}" if said else type(exc).__name__


def retry_throttled(operation: Callable[[], T], attempts: int = 5) -> T:
    """Run an upload again after a 429: b2sdk retries 503s on uploads but not 429s."""
    for _ in range(attempts - 1):
        try:
            return operation()
        except TooManyRequests as exc:
            time.sleep(min(float(exc.retry_after_seconds or 1), MAX_THROTTLE_WAIT))
    return operation()


def realm_url(realm: str) -> str:
    """Return the API URL of ``realm``: b2sdk's URL for a realm name (``"production"``), else
    ``realm`` itself, a URL (as b2sdk reads it). No I/O."""
    return str(REALM_URLS.get(realm, realm))
