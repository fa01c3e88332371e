"""One validator for every settings and options dict: each value checked against the type its
frozen dataclass field declares (``bool`` is never taken for an ``int`` or a ``float``)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, fields
from typing import Any


def check_fields(
    cls: type,
    values: Mapping[str, Any],
    *,
    named: Callable[[str], str],
    error: Callable[[str], Exception],
    what: str,
    also: Iterable[str] = (),
    required: bool = True,
) -> None:
    """Raise ``error(message)`` for a key of ``values`` that ``cls`` has no field for (``also``
    names more keys the caller takes), a value of the wrong type, or (with ``required``) a field
    with no default that is missing. ``named(key)`` is how a message names a key; ``what`` is
    what the keys are ("B2Storage option"). Messages name the key and the type, never the value.
    """
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.init}
    for key, value in values.items():
        if key not in known:
            if key in also:
                continue
            expected = ", ".join(sorted({*known, *also}))
            raise error(f"Unknown {what} {key!r}; expected one of {expected}.")
        if not _matches(value, hints[key]):
            described = _describe(hints[key])
            raise error(f"{named(key)} must be {described}, got {type(value).__name__}.")
    if required:
        for f in fields(cls):
            if f.default is MISSING and f.default_factory is MISSING and f.name not in values:
                raise error(f"{named(f.name)} is required.")


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is Any:
        return True
    if isinstance(value, bool) and hint in (int, float):
        return False
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(value, origin or hint)


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return "None"
    if (origin or hint) is Mapping:
        return "a dict"
    if hint is float:
        return "a number"
    return str(getattr(origin or hint, "__name__", hint))
