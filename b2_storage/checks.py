"""System checks of B2 storage settings: offline and fast (``manage.py b2doctor`` asks B2).

Ids are public and never reused: see docs/doctor.md for each.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from .doctor.targets import b2_aliases, field_storages
from .translate import realm_url

DOCTOR = "then run manage.py b2doctor to test the credentials against B2"
SECRETS = (
    ("application_key_id", "application key id", "B2_APPLICATION_KEY_ID", "b2_storage.E001"),
    ("application_key", "application key", "B2_APPLICATION_KEY", "b2_storage.E002"),
)


def _settings_of_storages(option: str) -> Iterator[tuple[str, str, Any]]:
    """Yield ``(storage, setting, value)``: each B2 storage (a ``STORAGES`` alias, or a model
    field's own storage), the setting its ``option`` comes from, and the value (or ``None``)."""
    shared = getattr(settings, "B2_STORAGE", {})
    for alias, options in b2_aliases():
        where = (
            f"STORAGES[{alias!r}]['OPTIONS'][{option!r}]"
            if option in options
            else (f"B2_STORAGE[{option!r}]")
        )
        yield f"STORAGES[{alias!r}]", where, {**shared, **options}.get(option)
    for label, storage in field_storages():
        value = getattr(storage.config, option)
        where = (
            f"B2_STORAGE[{option!r}]"
            if shared.get(option) == value
            else (f"the {option!r} option of {label}'s storage")
        )
        yield label, where, value


def _grouped(option: str) -> dict[tuple[str, Any], list[str]]:
    """Return the storages by (setting, value) of ``option``: one message per setting."""
    groups: dict[tuple[str, Any], list[str]] = {}
    for label, where, value in _settings_of_storages(option):
        key = (where, value if isinstance(value, (str, type(None))) else repr(value))
        groups.setdefault(key, []).append(label)
    return groups


def check_credentials(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check that each B2 storage has a key id and a key (never showing either)."""
    messages: list[CheckMessage] = []
    for option, noun, variable, check_id in SECRETS:
        for (where, value), labels in _grouped(option).items():
            if isinstance(value, str) and value.strip():
                continue
            if value is not None and not isinstance(value, str):
                continue  # the wrong type: B2Storage's own error says so when it is built
            state = "not set" if value is None else "empty"
            messages.append(
                Error(
                    f"{where} is {state}: the B2 {noun} of {', '.join(labels)}.",
                    hint=f"Set it (for example from the {variable} environment variable); "
                    f"{DOCTOR}.",
                    id=check_id,
                )
            )
    return messages


def check_realm(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """(Deploy.) Warn about B2 storages that point at a local B2 server."""
    messages: list[CheckMessage] = []
    for (where, realm), labels in _grouped("realm").items():
        url = realm_url(realm if isinstance(realm, str) else "production")
        if _is_loopback(urlsplit(url).hostname or ""):
            messages.append(
                Warning(
                    f"{', '.join(labels)} points at a local B2 server ({url}), set in {where}.",
                    hint="For Backblaze B2, remove it (the default realm is 'production'); "
                    f"{DOCTOR}.",
                    id="b2_storage.W001",
                )
            )
    return messages


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
