"""Ask B2 about a key and a bucket quickly: one try per request, short timeouts.

b2sdk retries a failed request five times with back-off (8 s against a closed port) and waits up
to 46 s for each connection, which is right for a storage but not for ``check --deploy`` or a
diagnosis. These two raw calls (``b2_authorize_account``, ``b2_list_buckets``) give up at once
and say why; b2sdk itself is not involved (the realm's URL comes from :mod:`..translate`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.views.decorators.debug import sensitive_variables

from ..config import StorageConfig
from ..translate import realm_url

CONNECT_TIMEOUT = 3.05  # seconds to open a connection (a little over one TCP retransmission)
READ_TIMEOUT = 10.0  # seconds between bytes of B2's answer


class ProbeFailed(Exception):
    """B2 could not be asked (``down``: unreachable, out of time, or 5xx) or refused; the text
    holds no secret."""

    def __init__(self, message: str, *, down: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.down = down
        self.status = status


@dataclass(frozen=True)
class KeyGrant:
    """What ``b2_authorize_account`` says about a key (the token stays out of ``repr``)."""

    realm_url: str
    account_id: str
    api_url: str
    download_url: str
    capabilities: frozenset[str]
    bucket_id: str | None
    bucket_name: str | None
    name_prefix: str | None
    clock_skew: float | None  # seconds this host's clock is ahead of B2's (None: no Date)
    token: str = field(repr=False)


def utc_now() -> datetime:
    """Return the time now, in UTC."""
    return datetime.now(timezone.utc)


class Prober:
    """Authorize keys and look up buckets, each once, one try each, within ``budget`` seconds
    in all (``None``: no limit beyond the per-request timeouts); ``now`` is this host's clock,
    compared with B2's."""

    def __init__(
        self, *, budget: float | None = None, now: Callable[[], datetime] = utc_now
    ) -> None:
        self._deadline = None if budget is None else time.monotonic() + budget
        self._now = now
        self._grants: dict[tuple[str, str, str], KeyGrant | ProbeFailed] = {}
        self._down: dict[str, ProbeFailed] = {}  # realm URL -> why it could not be reached
        self._buckets: dict[tuple[str, str], str | None] = {}

    def authorize(self, config: StorageConfig) -> KeyGrant:
        """Return what B2 says about the key of ``config``, or raise :class:`ProbeFailed`."""
        url = realm_url(config.realm)
        digest = hashlib.sha256(config.application_key.encode()).hexdigest()
        key = (url, config.application_key_id, digest)
        known = self._grants.get(key) or self._down.get(url)
        if known is None:
            try:
                known = _authorize(url, config, self._timeout(), self._now)
            except ProbeFailed as exc:
                known = exc
                if exc.down:
                    self._down[url] = exc  # one wait per realm, not one per storage
            self._grants[key] = known
        if isinstance(known, ProbeFailed):
            raise known
        return known

    def bucket_type(self, grant: KeyGrant, bucket: str) -> str | None:
        """Return the type of ``bucket`` (``allPrivate``, ``allPublic``...), or ``None`` when
        the key sees no such bucket; raise :class:`ProbeFailed` when B2 does not say."""
        key = (grant.api_url, bucket)
        if key not in self._buckets:
            body = {"accountId": grant.account_id, "bucketName": bucket}
            response = _call(
                "POST",
                f"{grant.api_url}/b2api/v3/b2_list_buckets",
                self._timeout(),
                json=body,
                headers={"Authorization": grant.token},
            )
            answer = _json(response, f"b2_list_buckets for {bucket!r}")
            found = [b for b in answer.get("buckets", []) if b.get("bucketName") == bucket]
            self._buckets[key] = str(found[0].get("bucketType")) if found else None
        return self._buckets[key]

    def _timeout(self) -> tuple[float, float]:
        if self._deadline is None:
            return CONNECT_TIMEOUT, READ_TIMEOUT
        left = self._deadline - time.monotonic()
        if left <= 0.05:
            raise ProbeFailed("out of time for B2 calls", down=True)
        return min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left)


@sensitive_variables("config", "auth", "answer")
def _authorize(
    url: str, config: StorageConfig, timeout: tuple[float, float], now: Callable[[], datetime]
) -> KeyGrant:
    auth = (config.application_key_id, config.application_key)
    response = _call("GET", f"{url}/b2api/v3/b2_authorize_account", timeout, auth=auth)
    answer = _json(response, "b2_authorize_account")
    try:
        api = answer["apiInfo"]["storageApi"]
        return KeyGrant(
            realm_url=url,
            account_id=str(answer["accountId"]),
            api_url=str(api["apiUrl"]),
            download_url=str(api["downloadUrl"]),
            capabilities=frozenset(str(c) for c in api.get("capabilities") or ()),
            bucket_id=api.get("bucketId"),
            bucket_name=api.get("bucketName"),
            name_prefix=api.get("namePrefix"),
            clock_skew=_skew(response, now()),
            token=str(answer["authorizationToken"]),
        )
    except (KeyError, TypeError):
        raise ProbeFailed(
            "b2_authorize_account answered without the API's fields (is the realm a B2 server?)",
            down=False,
        ) from None


@sensitive_variables("kwargs")
def _call(method: str, url: str, timeout: tuple[float, float], **kwargs: Any) -> requests.Response:
    """Send one request; a failure to connect is raised without chaining (requests' frames
    hold the credentials)."""
    failure = None
    try:
        return requests.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout as exc:
        failure = f"no answer within {max(timeout):.0f} s ({type(exc).__name__})"
    except requests.RequestException as exc:
        failure = f"could not connect ({type(exc).__name__})"
    raise ProbeFailed(failure, down=True)


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if not isinstance(body, dict):
        raise ProbeFailed(
            f"{what}: B2 answered {status} without JSON (is the realm a B2 server?)",
            down=status >= 500,
            status=status,
        )
    if status != 200:
        said = f"{body.get('code', '')}: {str(body.get('message', ''))[:200]}"
        raise ProbeFailed(f"{what}: B2 answered {status} {said}", down=status >= 500, status=status)
    return body


def _skew(response: requests.Response, now: datetime) -> float | None:
    """Return how many seconds this host's clock is ahead of B2's ``Date`` header (which has
    whole seconds: within about one second is no skew)."""
    try:
        server = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    if server.tzinfo is None:
        server = server.replace(tzinfo=timezone.utc)
    return (now - server).total_seconds()
