"""The raw ``b2_get_download_authorization`` call, for the response-header fields
(``b2ContentDisposition``, ``b2CacheControl``, ...) that b2sdk does not expose."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests
from django.views.decorators.debug import sensitive_variables

from .exceptions import B2AccessRefused, B2StorageError, B2Unavailable

TIMEOUT = 30  # the session given shortens it to the storage's timeouts and deadline
# 401 codes that mean "the account token is stale": authorize again, then retry once.
REAUTHORIZE = ("bad_auth_token", "expired_auth_token")


@sensitive_variables("account_token")
def request_download_token(
    api_url: str,
    account_token: str,
    body: Mapping[str, Any],
    *,
    session: requests.Session,
    on_busy: Callable[[], None] | None = None,
) -> str | None:
    """Return a download token, or ``None`` when B2 answers 401 (authorize again, then retry).

    The call goes through ``session`` (the account's bounded one: timeouts, deadline, circuit)
    and ``on_busy`` is told when B2 answers 5xx.
    Raise :class:`B2Unavailable` when B2 cannot be reached or answers 5xx/429,
    :class:`B2AccessRefused` when B2 refuses the key (a missing capability, another bucket or
    name prefix: authorizing again would not help) and :class:`B2StorageError` otherwise.
    """
    prefix = body.get("fileNamePrefix")
    url = f"{api_url}/b2api/v3/b2_get_download_authorization"
    response = _post(session, url, account_token, body)
    if response is not None and _retry_now(response):  # B2's advice: a busy answer, try again
        response = _post(session, url, account_token, body)
    if response is None:
        raise B2Unavailable(f"B2 could not be reached to authorize {prefix!r}.")
    if response.status_code == 401 and _error_field(response, "code") in REAUTHORIZE:
        return None
    if response.status_code in (401, 403):  # the key lacks shareFiles, or another bucket/prefix
        raise B2AccessRefused(
            f"B2 refused the application key a download authorization for {prefix!r}: "
            f"{_error_field(response, 'code')}: {_error_field(response, 'message')}",
            hint="Give the key the shareFiles capability on this bucket, with no name prefix "
            f"or one that covers {prefix!r}.",
        )
    if response.status_code >= 500 or response.status_code == 429:
        if response.status_code >= 500 and on_busy is not None:
            on_busy()
        error = B2Unavailable(f"B2 answered {response.status_code} to authorize {prefix!r}.")
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit() and int(retry_after) > 0:
            error.retry_after = int(retry_after)
        raise error
    if response.status_code != 200:
        raise B2StorageError(
            f"B2 refused a download authorization for {prefix!r}: "
            f"{response.status_code} {_error_field(response, 'code')}."
        )
    try:
        return str(response.json()["authorizationToken"])
    except (ValueError, KeyError, TypeError):
        raise B2Unavailable(f"B2 answered 200 without a token for {prefix!r}.") from None


@sensitive_variables("account_token")
def _post(
    session: requests.Session, url: str, account_token: str, body: Mapping[str, Any]
) -> requests.Response | None:
    """POST ``body``; ``None`` when B2 cannot be reached. The connection error is dropped, not
    chained: requests' frames hold the account token, which Django's error page would show."""
    try:
        return session.post(
            url, json=dict(body), headers={"Authorization": account_token}, timeout=TIMEOUT
        )
    except requests.RequestException:
        return None


def _retry_now(response: requests.Response) -> bool:
    """Return whether a busy answer (5xx or 429) asks for no wait: worth one more try at once.
    A longer ``Retry-After`` is passed on to the browser instead of holding the request."""
    busy = response.status_code >= 500 or response.status_code == 429
    return busy and response.headers.get("Retry-After", "0").strip() in ("", "0")


def _error_field(response: requests.Response, key: str) -> str:
    """Return ``key`` of B2's JSON error body (``code`` or ``message``), or "" without one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get(key, ""))[:200] if isinstance(body, dict) else ""
