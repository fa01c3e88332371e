"""What migrations record of a storage: Django's ``@deconstructible``, minus shared secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.utils.deconstruct import deconstructible

SECRETS = ("application_key", "application_key_id")
K = TypeVar("K", bound=type)


def recorded_as(path: str) -> Callable[[K], K]:
    """Return Django's ``@deconstructible(path=path)`` (what migrations import: never a private
    module; a project's subclass is recorded under its own name) that leaves out the
    credentials ``B2_STORAGE`` holds, so a test server's key never lands in a migration."""

    def decorate(klass: K) -> K:
        klass = deconstructible(path=path)(klass)
        as_given = getattr(klass, "deconstruct")  # noqa: B009 - set just above, unknown to mypy

        def deconstruct(self: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
            name, args, kwargs = as_given(self)
            shared = getattr(settings, "B2_STORAGE", {})
            kept = {k: v for k, v in kwargs.items() if k not in SECRETS or shared.get(k) != v}
            return name, tuple(args), kept

        klass.deconstruct = deconstruct  # type: ignore[attr-defined]
        return klass

    return decorate
