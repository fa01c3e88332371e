"""b2sdk's exceptions translated into ours, in one place, and the retry b2sdk leaves out.

Imports b2sdk through ``b2sdk.v2`` only, like :mod:`.client` and :mod:`.account_info`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from b2sdk.v2.exception import (
    AlreadyFailed,
    B2ConnectionError,
    B2Error,
    B2RequestTimeout,
    ConnectionReset,
    FileNotPresent,
    MaxRetriesExceeded,
    NonExistentBucket,
    ServiceError,
    TooManyRequests,
)

from .exceptions import (
    B2ConfigurationError,
    B2FileNotFound,
    B2StorageError,
    B2Unavailable,
    B2UploadFailed,
)

T = TypeVar("T")
UNAVAILABLE = (
    B2ConnectionError, B2RequestTimeout, ConnectionReset, MaxRetriesExceeded, ServiceError,
    TooManyRequests,
)  # fmt: skip
MAX_THROTTLE_WAIT = 10.0
# What the first failure of a large upload said, as b2sdk's AlreadyFailed repeats it.
TRANSIENT = re.compile(r"\b(429|5\d\d)\b|service_unavailable|too_many_requests|[Cc]onnection")


@contextmanager
def translate_errors(name: str) -> Iterator[None]:
    """Turn b2sdk's exceptions about ``name`` into ours (the one place that does)."""
    try:
        yield
    except FileNotPresent as exc:
        raise B2FileNotFound(name) from exc
    except NonExistentBucket as exc:
        raise B2ConfigurationError(
            f"The B2 bucket {name!r} does not exist (set the 'create_bucket' option to create it)."
        ) from exc
    except UNAVAILABLE as exc:
        error = B2Unavailable(f"B2 could not be reached while handling {name!r}.")
        retry_after = getattr(exc, "retry_after_seconds", None)
        if isinstance(retry_after, (int, float)) and retry_after > 0:
            error.retry_after = int(retry_after)  # B2's own hint, passed on to the 503
        raise error from exc
    except AlreadyFailed as exc:  # another part of a large upload failed first
        if TRANSIENT.search(str(exc)):
            raise B2Unavailable(f"B2 could not be reached while uploading {name!r}.") from exc
        raise B2UploadFailed(f"The upload of {name!r} failed; nothing of it is visible.") from exc
    except B2Error as exc:
        raise B2StorageError(f"B2 refused an operation on {name!r}: {type(exc).__name__}.") from exc


def retry_throttled(operation: Callable[[], T], attempts: int = 5) -> T:
    """Run an upload again after a 429: b2sdk retries 503s on uploads but not 429s."""
    for _ in range(attempts - 1):
        try:
            return operation()
        except TooManyRequests as exc:
            time.sleep(min(float(exc.retry_after_seconds or 1), MAX_THROTTLE_WAIT))
    return operation()
