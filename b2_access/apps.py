"""The ``b2_access`` Django app: registers the system checks and resets cached settings."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed


def _reset(*, setting: str, **kwargs: Any) -> None:
    # STORAGES too: B2_ACCESS["legacy"] is checked against its aliases.
    if setting in (
        "B2_ACCESS",
        "SECRET_KEY",
        "SECRET_KEY_FALLBACKS",
        "CACHES",
        "LOGIN_URL",
        "STORAGES",
    ):
        from .conf import current_signer, get_access_settings
        from .resolver import shared_authorizer, shared_resolver

        get_access_settings.cache_clear()
        current_signer.cache_clear()
        shared_authorizer.cache_clear()
        shared_resolver.cache_clear()


class B2AccessConfig(AppConfig):
    """Signed, expiring, tier-checked download links that redirect to B2."""

    name = "b2_access"
    verbose_name = "B2 access"

    def ready(self) -> None:
        from . import checks as b2_checks
        from . import isolation
        from .legacy import checks as legacy_checks

        checks.register(b2_checks.check_settings, "b2_access")
        checks.register(b2_checks.check_storages, "b2_access")
        checks.register(isolation.check_tier_isolation, "b2_access")
        checks.register(isolation.check_scope_coverage, "b2_access")
        checks.register(isolation.check_layout_isolation, "b2_access")
        checks.register(b2_checks.check_public_buckets, "b2_access", deploy=True)
        checks.register(legacy_checks.check_legacy, "b2_access")
        setting_changed.connect(_reset, dispatch_uid="b2_access.reset")
