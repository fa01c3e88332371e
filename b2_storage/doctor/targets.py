"""The B2 storages of a project: ``STORAGES`` aliases and the storages of models' file fields."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage, storages
from django.db.models import Model
from django.utils.module_loading import import_string

from ..exceptions import B2StorageError
from ..storage import B2Storage


@dataclass(frozen=True)
class Target:
    """A storage to diagnose, named as the project names it (an alias, or ``app.Model.field``);
    ``problem`` says why it could not be built (then ``storage`` is ``None``)."""

    label: str
    storage: B2Storage | None
    problem: str | None = None


def b2_aliases() -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield each ``STORAGES`` alias whose backend is a B2 storage, with its ``OPTIONS``, without
    building it (no I/O, whatever ``validate_on_init`` says)."""
    for alias, entry in getattr(settings, "STORAGES", {}).items():
        try:
            backend = import_string(entry.get("BACKEND", ""))
        except ImportError:
            continue  # Django's own error, when the storage is used
        if isinstance(backend, type) and issubclass(backend, B2Storage):
            yield alias, dict(entry.get("OPTIONS", {}))


def field_storages(models: Iterable[type[Model]] | None = None) -> Iterator[tuple[str, B2Storage]]:
    """Yield ``(app_label.Model.field, storage)`` for each file field of ``models`` (default:
    every installed model) whose storage is a B2 storage of its own (not ``default_storage``,
    which is ``STORAGES["default"]``)."""
    for model in apps.get_models() if models is None else models:
        for field in model._meta.fields:
            storage = getattr(field, "storage", None)
            # type(), not isinstance(): a lazy storage would be built to answer isinstance().
            if storage is not default_storage and issubclass(type(storage), B2Storage):
                label = f"{model._meta.app_label}.{model.__name__}.{field.name}"
                yield label, cast(B2Storage, storage)


def find_targets(models: Iterable[type[Model]] | None = None) -> list[Target]:
    """Return every B2 storage of the project once (by identity): the ``STORAGES`` aliases,
    then the storages of models' file fields, labelled ``app_label.Model.field``."""
    targets: list[Target] = []
    seen: set[int] = set()

    def add(label: str, storage: B2Storage) -> None:
        if id(storage) not in seen:
            seen.add(id(storage))
            targets.append(Target(label, storage))

    for alias, _options in b2_aliases():
        try:
            storage = storages[alias]
        except (ImproperlyConfigured, B2StorageError) as exc:
            targets.append(Target(alias, None, str(exc)))
            continue
        if isinstance(storage, B2Storage):
            add(alias, storage)
    for label, storage in field_storages(models):
        add(label, storage)
    return targets
