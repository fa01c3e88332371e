"""The raw ``b2_get_download_authorization`` call, for the response-header fields
(``b2ContentDisposition``, ``b2CacheControl``, ...) that b2sdk does not expose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from .exceptions import B2StorageError, B2Unavailable

TIMEOUT = 30


def request_download_token(api_url: str, account_token: str, body: Mapping[str, Any]) -> str | None:
    """Return a download token, or ``None`` when B2 answers 401 (authorize again, then retry).

    Raise :class:`B2Unavailable` when B2 cannot be reached or answers 5xx/429, and
    :class:`B2StorageError` when it refuses the request.
    """
    prefix = body.get("fileNamePrefix")
    try:
        response = requests.post(
            f"{api_url}/b2api/v3/b2_get_download_authorization", json=dict(body),
            headers={"Authorization": account_token}, timeout=TIMEOUT,
        )  # fmt: skip
    except requests.RequestException as exc:
        raise B2Unavailable(f"B2 could not be reached to authorize {prefix!r}.") from exc
    if response.status_code == 401:
        return None
    if response.status_code >= 500 or response.status_code == 429:
        error = B2Unavailable(f"B2 answered {response.status_code} to authorize {prefix!r}.")
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit() and int(retry_after) > 0:
            error.retry_after = int(retry_after)
        raise error
    if response.status_code != 200:
        raise B2StorageError(
            f"B2 refused a download authorization for {prefix!r}: "
            f"{response.status_code} {_error_code(response)}."
        )
    try:
        return str(response.json()["authorizationToken"])
    except (ValueError, KeyError, TypeError):
        raise B2Unavailable(f"B2 answered 200 without a token for {prefix!r}.") from None


def _error_code(response: requests.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""
