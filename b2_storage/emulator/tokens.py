"""Self-checking tokens of the local B2 server: HMAC-signed, so a tampered token is refused.

Account, upload and download-authorization tokens all carry their own scope and expiry, signed with
the server's secret (kept in the data directory, so links survive a restart, as B2's do).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, cast


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issue and read tokens of one kind (``"acct"``, ``"upld"``, ``"dnld"``)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "TokenSigner(<secret hidden>)"

    def _mac(self, kind: str, body: str) -> str:
        digest = hmac.new(self._secret, f"{kind}.{body}".encode(), hashlib.sha256).digest()
        return _b64(digest[:18])

    def issue(self, kind: str, payload: dict[str, Any]) -> str:
        """Return a token holding ``payload``, signed for ``kind``."""
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"4_{kind}{body}.{self._mac(kind, body)}"

    def read(self, kind: str, token: str) -> dict[str, Any] | None:
        """Return the payload of a genuine token of ``kind``, or ``None``."""
        head = f"4_{kind}"
        # A header may carry any Latin-1 text: anything but ASCII is not one of our tokens
        # (and hmac.compare_digest refuses non-ASCII str).
        if not token.isascii() or not token.startswith(head) or "." not in token:
            return None
        body, _, mac = token[len(head) :].rpartition(".")
        if not hmac.compare_digest(mac, self._mac(kind, body)):
            return None
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            return None
        return cast(dict[str, Any], payload) if isinstance(payload, dict) else None
