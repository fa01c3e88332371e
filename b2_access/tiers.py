"""Access tiers: data, not subclasses. A tier is a name and a predicate over the request.

Built in: ``public`` (anyone), ``logged_in`` (an authenticated, active user), ``staff`` (an active
staff user). Register more with ``@b2_access.tier("name")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from .exceptions import UnknownTier

Predicate = Callable[[HttpRequest], bool]


@dataclass(frozen=True)
class Tier:
    """A named rule: ``allows(request)`` is the whole policy; ``needs_login`` says whether an
    anonymous user is sent to log in (rather than refused)."""

    name: str
    allows: Predicate
    needs_login: bool = True
    reads_only_user: bool = False  # True: allows() reads request.user's fields, no queries


def _user(request: HttpRequest) -> Any:
    return getattr(request, "user", None)


def _logged_in(request: HttpRequest) -> bool:
    user = _user(request)
    return bool(user is not None and user.is_authenticated and user.is_active)


def _staff(request: HttpRequest) -> bool:
    return _logged_in(request) and bool(_user(request).is_staff)


class TierRegistry:
    """The tiers of this process, by name."""

    def __init__(self) -> None:
        self._tiers: dict[str, Tier] = {}

    def register(self, tier: Tier) -> Tier:
        """Add ``tier``; a name registered twice is a configuration error."""
        if tier.name in self._tiers:
            raise ImproperlyConfigured(f"Access tier {tier.name!r} is registered twice.")
        self._tiers[tier.name] = tier
        return tier

    def unregister(self, name: str) -> None:
        """Remove a custom tier (for tests); built-in tiers stay."""
        if name in BUILT_IN:
            raise ValueError(f"The built-in tier {name!r} cannot be removed.")
        self._tiers.pop(name, None)

    def __getitem__(self, name: str) -> Tier:
        try:
            return self._tiers[name]
        except KeyError:
            raise UnknownTier(name) from None

    def get(self, name: str) -> Tier | None:
        """Return the tier named ``name``, or ``None``."""
        return self._tiers.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tiers

    def names(self) -> list[str]:
        """Return the registered tier names."""
        return sorted(self._tiers)


BUILT_IN = ("public", "logged_in", "staff")
tiers = TierRegistry()
tiers.register(Tier("public", lambda request: True, needs_login=False, reads_only_user=True))
tiers.register(Tier("logged_in", _logged_in, reads_only_user=True))
tiers.register(Tier("staff", _staff, reads_only_user=True))


def tier(name: str, *, needs_login: bool = True) -> Callable[[Predicate], Predicate]:
    """Register the decorated ``(request) -> bool`` as the access tier ``name``.

    An anonymous user refused by it is sent to log in unless ``needs_login`` is False.
    """

    def decorator(predicate: Predicate) -> Predicate:
        tiers.register(Tier(name, predicate, needs_login))
        return predicate

    return decorator
