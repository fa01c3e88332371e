"""The optional ``b2_storage`` Django app: its system checks and ``manage.py b2doctor``.

``B2Storage`` works without it; add ``"b2_storage"`` to ``INSTALLED_APPS`` for the checks and
the command. Nothing here touches the network.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class B2StorageAppConfig(AppConfig):
    """Register the system checks of B2 storage settings (offline and fast)."""

    name = "b2_storage"
    verbose_name = "B2 storage"

    def ready(self) -> None:
        from . import checks as b2_checks

        checks.register(b2_checks.check_credentials, "b2_storage")
        checks.register(b2_checks.check_realm, "b2_storage", deploy=True)
