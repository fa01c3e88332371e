"""Signed download links: pure, rotatable, salted per purpose (no request objects here).

A link is ``{prefix}{token}/{name}``. The token holds a compact payload (storage, tier, expiry,
response options, bound user) and an HMAC-SHA256 signature over the payload *and the name*, so
the name appears once, last, where browsers take a download's file name from.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from itsdangerous import BadSignature, TimestampSigner

from .exceptions import InvalidToken, TokenExpired

NAME_SEPARATOR = "~"
# itsdangerous decodes base64 leniently (it drops unexpected characters): accept only the
# URL-safe alphabet, so that one link has one spelling.
TOKEN_PART = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Grant:
    """What a signed link allows: one file of one storage, for one tier, for ``expires`` s."""

    storage: str  # the storage's fingerprint
    name: str
    tier: str
    expires: int
    attachment: bool = False
    filename: str | None = None
    cache_control: str | None = None
    user: str | None = None  # the bound user's primary key, as a string

    @property
    def delivery(self) -> Delivery:
        """Return how this grant's file is served."""
        return Delivery(self.name, self.attachment, self.filename, self.cache_control)


@dataclass(frozen=True)
class Delivery:
    """How a file is served from B2: the response headers its download token pins. It says
    nothing of who may open it: a signed :class:`Grant` decides that, or a view's own rule."""

    name: str
    attachment: bool = False
    filename: str | None = None
    cache_control: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(text: str) -> bool:
    try:
        return _b64(_unb64(text)) == text
    except ValueError:  # binascii.Error: a length no base64 text has
        return False


def _payload(grant: Grant) -> str:
    options: dict[str, Any] = {}
    if grant.attachment:
        options["a"] = 1
    if grant.filename:
        options["f"] = grant.filename
    if grant.cache_control:
        options["c"] = grant.cache_control
    fields = [grant.storage, grant.tier, grant.expires, options, grant.user]
    return _b64(json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode())


def _grant(payload: str, name: str) -> Grant:
    try:
        storage, tier, expires, options, user = json.loads(_unb64(payload))
        return Grant(
            str(storage),
            name,
            str(tier),
            int(expires),
            bool(options.get("a")),
            options.get("f"),
            options.get("c"),
            None if user is None else str(user),
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidToken("The download link's payload is malformed.") from exc


class UrlSigner:
    """Sign and verify grants with a list of keys, oldest to newest (the newest signs)."""

    def __init__(self, keys: list[str], *, salt: str = "b2_access.download") -> None:
        if not keys:
            raise ValueError("UrlSigner needs at least one key.")
        self._signer = TimestampSigner(keys, salt=salt, digest_method=hashlib.sha256)

    def __repr__(self) -> str:
        return "UrlSigner(<keys hidden>)"

    def sign(self, grant: Grant) -> str:
        """Return the token of ``grant`` (without the name, which the signature covers)."""
        payload = _payload(grant)
        signed = self._signer.sign(f"{payload}{NAME_SEPARATOR}{grant.name}").decode()
        _value, timestamp, signature = signed.rsplit(".", 2)
        return f"{payload}.{timestamp}.{signature}"

    def unsign(self, token: str, name: str, *, now: datetime | None = None) -> Grant:
        """Return the grant of a genuine, unexpired ``token`` for ``name``.

        Raise :class:`TokenExpired` for a genuine but expired token, :class:`InvalidToken` for
        anything else (tampered, another key, another name, malformed).
        """
        parts = token.split(".")
        if len(parts) != 3 or not all(TOKEN_PART.match(part) for part in parts):
            raise InvalidToken("The download link is malformed.")
        payload, timestamp, signature = parts
        if not _canonical(signature):  # one spelling only: no unused bits set
            raise InvalidToken("The download link's signature is not canonical.")
        try:
            _value, signed_at = self._signer.unsign(
                f"{payload}{NAME_SEPARATOR}{name}.{timestamp}.{signature}", return_timestamp=True
            )
        except BadSignature as exc:
            raise InvalidToken("The download link's signature does not match.") from exc
        grant = _grant(payload, name)
        current = now or datetime.now(timezone.utc)
        age = (current - signed_at).total_seconds()
        if age > grant.expires or age < -60:
            raise TokenExpired(signed_at, grant.expires)
        return grant
