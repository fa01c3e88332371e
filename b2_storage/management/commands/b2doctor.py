"""``manage.py b2doctor``: check every B2 storage of the project against B2 (see docs/doctor.md)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from b2_storage.doctor import ERROR, SKIP, WARN, diagnose, find_targets
from b2_storage.doctor.report import as_json, as_table, summary


class Command(BaseCommand):
    help = (
        "Check each B2 storage against B2: the key and its capabilities, bucket and name prefix, "
        "the bucket and its type, the clock and the shared caches; with --write, a round trip. "
        "Exits with status 1 when any check fails."
    )
    # The doctor reports what the system checks would stop it for (an empty key, ...).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--storage",
            action="append",
            metavar="ALIAS",
            help="check only this storage (a STORAGES alias, or app.Model.field "
            "for a model field's own storage); repeatable",
        )
        parser.add_argument(
            "--json", action="store_true", help="print the findings as a JSON list of objects"
        )
        parser.add_argument(
            "--write",
            action="store_true",
            help="also save, fetch through url() and delete a small temporary file in each storage",
        )
        parser.add_argument(
            "--user", metavar="USERNAME", help="with --write, follow signed links as this user"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        targets = find_targets()
        wanted = options["storage"]
        if wanted:
            known = [t.label for t in targets]
            unknown = [name for name in wanted if name not in known]
            if unknown:
                raise CommandError(
                    f"No B2 storage named {', '.join(map(repr, unknown))}; the B2 "
                    f"storages are: {', '.join(known) or 'none'}."
                )
            targets = [t for t in targets if t.label in wanted]
        findings = diagnose(targets, write=options["write"], user=self._user(options["user"]))
        if options["json"]:
            self.stdout.write(as_json(findings))
        elif not findings:
            self.stdout.write("No B2 storage found (in STORAGES or models' file fields).")
        else:
            self.stdout.write(as_table(findings, self._paint))
            self.stdout.write(summary(findings))
        errors = [f"{f.storage}: {f.check}" for f in findings if f.status == ERROR]
        if errors:
            raise CommandError(
                f"{len(errors)} check{'s' * (len(errors) != 1)} failed ({'; '.join(errors)}).",
                returncode=1,
            )

    def _user(self, username: str | None) -> Any:
        if username is None:
            return None
        model = get_user_model()
        try:
            return model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            raise CommandError(f"No user {username!r} (--user).") from None

    def _paint(self, status: str, text: str) -> str:
        style = {ERROR: self.style.ERROR, WARN: self.style.WARNING, SKIP: self.style.NOTICE}
        return style.get(status, self.style.SUCCESS)(text)
