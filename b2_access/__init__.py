"""Signed, expiring, tier-checked download links that redirect to Backblaze B2.

``url()`` of a signed storage signs a short-lived Django link locally; the middleware checks it
and the user's tier when it is clicked, then answers with a 302 to a B2 download-authorization URL.
"""

from __future__ import annotations

from .decorators import redirect_to_file, require_tier
from .exceptions import AccessError, InvalidToken, TokenExpired, UnknownTier
from .storages import LoggedInStorage, PublicStorage, SignedB2Storage, StaffStorage
from .tiers import Tier, tier, tiers

__all__ = [
    "AccessError",
    "InvalidToken",
    "LoggedInStorage",
    "PublicStorage",
    "SignedB2Storage",
    "StaffStorage",
    "Tier",
    "TokenExpired",
    "UnknownTier",
    "redirect_to_file",
    "require_tier",
    "tier",
    "tiers",
]
