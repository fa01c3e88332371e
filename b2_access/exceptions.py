"""Every error b2_access raises on purpose."""

from __future__ import annotations

from datetime import datetime


class AccessError(Exception):
    """Base class for every error b2_access raises on purpose."""


class InvalidToken(AccessError):
    """A signed download link is malformed, tampered with, or signed with another key."""


class TokenExpired(InvalidToken):
    """A signed download link was genuine but is past its expiry."""

    def __init__(self, signed_at: datetime, expires: int) -> None:
        super().__init__(f"The download link expired ({expires} s after it was signed).")
        self.signed_at = signed_at
        self.expires = expires


class UnknownTier(AccessError, LookupError):
    """No access tier of that name is registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No access tier named {name!r} is registered.")
        self.name = name
