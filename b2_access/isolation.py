"""Isolation: B2 download tokens cover a name prefix (a token for ``docs/a`` also opens
``docs/ab`` and ``docs/a/x``), so storages of one bucket must keep apart what a link of one could
open. System checks say so in ``manage.py check``; :func:`scope_conflict` makes a running
process keep to it too (checks do not run under gunicorn or uvicorn).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import combinations
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.utils.module_loading import import_string

from b2_storage import B2Storage, B2StorageError

from .storages import SignedB2Storage, signed_storages


def b2_aliases() -> Iterator[tuple[str, type[B2Storage]]]:
    """Yield each ``STORAGES`` alias whose backend is a B2 storage, with that backend."""
    for alias, entry in getattr(settings, "STORAGES", {}).items():
        try:
            backend = import_string(entry.get("BACKEND", ""))
        except ImportError:
            continue
        if isinstance(backend, type) and issubclass(backend, B2Storage):
            yield alias, backend


# -- isolation: B2 download tokens cover a name prefix (docs/DESIGN "What a link grants") -------
Named = tuple[str, B2Storage]  # how a message names the storage, and the storage


def by_bucket() -> list[list[Named]]:
    """Return the B2 storages of ``STORAGES`` (named by alias) and every signed storage of this
    process (named by repr), each once, grouped by realm and bucket. No I/O beyond what building
    a ``STORAGES`` entry does; one that fails to build is E005's to report."""
    named: dict[B2Storage, str] = {}  # equal storages (==) are one
    for alias, _backend in b2_aliases():
        try:
            storage = storages[alias]
        except (ImproperlyConfigured, B2StorageError):
            continue
        if isinstance(storage, B2Storage):
            named.setdefault(storage, f"STORAGES[{alias!r}]")
    for signed in signed_storages():
        named.setdefault(signed, repr(signed))
    groups: defaultdict[tuple[str, str], list[Named]] = defaultdict(list)
    for storage, label in named.items():
        groups[storage.config.realm, storage.config.bucket].append((label, storage))
    return list(groups.values())


def area(storage: B2Storage) -> str:
    """Return the B2 name prefix of a storage's files: ``location/``, or "" (the bucket)."""
    return f"{storage.config.location}/" if storage.config.location else ""


def overlap(one: str, other: str) -> bool:
    return one.startswith(other) or other.startswith(one)


def check_tier_isolation(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check that signed storages of one bucket whose tier or scope differ keep prefix-disjoint
    locations, since a B2 download token for ``docs/a`` also opens ``docs/ab`` and ``docs/a/x``.

    Storages that differ only in ``expires`` or ``attachment`` may share a location: whoever
    holds a link of one could open the same files with a link of the other, of their own.
    """
    messages: list[CheckMessage] = []
    for group in by_bucket():
        signed = [(label, s) for label, s in group if isinstance(s, SignedB2Storage)]
        for (label_a, a), (label_b, b) in combinations(signed, 2):
            if (a.access.tier, a.access.scope) == (b.access.tier, b.access.scope):
                continue
            if overlap(area(a), area(b)):
                messages.append(
                    Error(
                        f"{describe(label_a, a)} and {describe(label_b, b)} share the bucket "
                        f"{a.config.bucket!r} in overlapping locations: B2 download tokens cover a "
                        "name prefix, so the B2 URL behind a link of one can open files of the "
                        "other.",
                        hint="Give each a distinct location, neither a prefix of the other (e.g. "
                        '"docs" and "staff-docs"); no location means the whole bucket.',
                        id="b2_access.E010",
                    )
                )
    return messages


def check_layout_isolation(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check that a ``folder-per-file`` storage shares its files' region with no storage of
    another layout: its tokens cover a whole random folder, which only it may create."""
    messages: list[CheckMessage] = []
    for group in by_bucket():
        for (label_a, a), (label_b, b) in combinations(group, 2):
            if a.config.layout == b.config.layout or not overlap(area(a), area(b)):
                continue
            messages.append(
                Error(
                    f"{describe(label_a, a)} and {describe(label_b, b)} share the bucket "
                    f"{a.config.bucket!r} in overlapping locations with different layouts: a "
                    "folder-per-file storage's token opens a whole folder, and the other storage "
                    "could save a file into a folder shaped like one of its own.",
                    hint="Give the folder-per-file storage a location no other storage's "
                    "location starts with, or give both the same layout.",
                    id="b2_access.E017",
                )
            )
    return messages


def scope_overlaps() -> Iterator[tuple[tuple[str, SignedB2Storage], Named]]:
    """Yield each ``bucket`` or prefix scoped signed storage, with a storage of another location
    whose files its tokens cover."""
    for group in by_bucket():
        for label, storage in group:
            if not isinstance(storage, SignedB2Storage) or storage.scope_region is None:
                continue
            for other_label, other in group:
                if other.config.location == storage.config.location:
                    continue
                if overlap(storage.scope_region, area(other)):
                    yield (label, storage), (other_label, other)


def check_scope_coverage(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check that no ``bucket`` or prefix scope hands out B2 download tokens that cover the
    files of another B2 storage (signed, or in ``STORAGES``) with a different location."""
    return [
        Error(
            _covers(scoped, other),
            hint="Give the scoped storage a location of its own that no other storage's "
            "location starts with, narrow its scope to its own files, or use scope 'file'.",
            id="b2_access.E011",
        )
        for scoped, other in scope_overlaps()
    ]


def scope_conflict(storage: SignedB2Storage) -> str | None:
    """Return why ``storage``'s scope must not be used for its tokens (system check E011, for
    a process that never ran the checks), or ``None``. No I/O: ``STORAGES`` and this process's
    signed storages only."""
    if storage.scope_region is None:
        return None
    for scoped, other in scope_overlaps():
        if scoped[1] is storage or scoped[1] == storage:
            return _covers(scoped, other)
    return None


def _covers(scoped: tuple[str, SignedB2Storage], other: Named) -> str:
    label, storage = scoped
    region = storage.scope_region or ""
    covered = f"every name starting with {region!r}" if region else "every name"
    return (
        f"{describe(label, storage)} hands out B2 download tokens for {covered} in the bucket "
        f"{storage.config.bucket!r}, which covers the files of {describe(*other)}."
    )


def describe(label: str, storage: B2Storage) -> str:
    location = f"location {storage.config.location!r}"
    if isinstance(storage, SignedB2Storage):
        access = storage.access
        return f"{label} (tier {access.tier!r}, scope {access.scope!r}, {location})"
    return f"{label} ({location})"
