"""``manage.py b2_rewrite_migrations``: make migrations written for django-backblaze-b2 load
without it, by rewriting their references to its storages into ours.

A dry run by default: prints a unified diff of each migration it would change. ``--apply`` writes
them. Only the migrations of the project's own apps (the labels given, or every app not installed
in site-packages) are read, as text: none of them is imported.
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.migrations.loader import MigrationLoader

from ...conf import get_access_settings
from ...legacy.rewrite import OLD_PACKAGE, Deconstructed, RewriteError, rewrite
from ...storages import SignedB2Storage

INSTALLED_PACKAGES = ("site-packages", "dist-packages")
SECRETS = ("application_key", "application_key_id")


class Command(BaseCommand):
    """Rewrite the project's migrations off django-backblaze-b2 (a diff; ``--apply`` writes)."""

    help = (
        "Rewrite the project's migrations that refer to django-backblaze-b2's storages to use "
        "b2_storage and b2_access. Prints a diff; --apply writes the files."
    )
    requires_system_checks: list[str] = []  # it must run while old migrations cannot load

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("app_labels", nargs="*", help="Apps to rewrite (default: all yours).")
        parser.add_argument("--apply", action="store_true", help="Write the rewritten files.")

    def handle(self, *args: Any, **options: Any) -> None:
        aliases = self._aliases()
        changes: list[tuple[Path, str, str]] = []
        problems: list[str] = []
        for path in _migration_files(_project_apps(options["app_labels"])):
            source = path.read_text(encoding="utf-8")
            if OLD_PACKAGE not in source:
                continue
            try:
                new = rewrite(source, aliases)
            except (RewriteError, SyntaxError) as exc:
                problems.append(f"{_shown(path)}: {exc}")
                continue
            if new != source:
                changes.append((path, source, new))
        for path, old, new in changes:
            name = _shown(path)
            self.stdout.write(
                "".join(
                    difflib.unified_diff(
                        old.splitlines(keepends=True),
                        new.splitlines(keepends=True),
                        name,
                        name,
                    )
                )
            )
        if problems:
            details = "\n".join(problems)
            raise CommandError(f"Nothing was written; rewrite these by hand:\n{details}")
        if not changes:
            self.stdout.write(f"No migration refers to {OLD_PACKAGE}.")
        elif options["apply"]:
            for path, _old, new in changes:
                path.write_text(new, encoding="utf-8")
            self.stdout.write(self.style.SUCCESS(f"Rewrote {len(changes)} migration file(s)."))
        else:
            self.stdout.write(
                f"{len(changes)} migration file(s) would be rewritten; run again with --apply "
                "to write them."
            )

    def _aliases(self) -> Mapping[str, Deconstructed]:
        """Return, per kind of old link in ``B2_ACCESS["legacy"]``, its storage's deconstruction:
        the old class's fields now use that storage."""
        found: dict[str, Deconstructed] = {}
        try:
            legacy = get_access_settings().legacy
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        for kind, alias in legacy.items():
            try:
                storage = storages[alias]
            except Exception as exc:  # any error of building it: the command cannot go on
                raise CommandError(f"STORAGES[{alias!r}] cannot be built: {exc}") from None
            if not isinstance(storage, SignedB2Storage) or storage.access.tier != kind:
                raise CommandError(
                    f"B2_ACCESS['legacy'][{kind!r}] names STORAGES[{alias!r}], which is not a "
                    f"signed storage of the {kind!r} tier (see manage.py check)."
                )
            path, _args, kwargs = storage.deconstruct()
            secrets = sorted(set(SECRETS) & set(kwargs))
            if secrets:
                raise CommandError(
                    f"STORAGES[{alias!r}] holds {' and '.join(secrets)} that B2_STORAGE does not: "
                    "move the credentials to B2_STORAGE so that they stay out of migrations."
                )
            found[kind] = (path, kwargs)
        return found


def _project_apps(labels: list[str]) -> list[AppConfig]:
    if not labels:
        return [config for config in apps.get_app_configs() if not _installed(config)]
    chosen = []
    for label in labels:
        try:
            config = apps.get_app_config(label)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if _installed(config):
            raise CommandError(f"{label!r} is an installed package: its migrations are not yours.")
        chosen.append(config)
    return chosen


def _installed(config: AppConfig) -> bool:
    """Return whether the app is an installed distribution (Django's own apps too)."""
    return any(part in INSTALLED_PACKAGES for part in Path(config.path).parts)


def _migration_files(configs: list[AppConfig]) -> Iterator[Path]:
    """Yield each app's migration files, found without importing any of them."""
    for config in configs:
        module, _explicit = MigrationLoader.migrations_module(config.label)
        if module is None:
            continue
        try:
            spec = importlib.util.find_spec(module)
        except ImportError:
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            yield from sorted(p for p in Path(folder).glob("*.py") if p.name != "__init__.py")


def _shown(path: Path) -> str:
    """Return ``path`` relative to the project (BASE_DIR, else the working directory)."""
    base = Path(getattr(settings, "BASE_DIR", Path.cwd()))
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
