"""Every error b2_storage raises on purpose, under one root, each also a built-in where Python
already has a meaning for it (so Django code catches them naturally)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class B2StorageError(Exception):
    """Base class for every error b2_storage raises on purpose."""


class B2ConfigurationError(B2StorageError, ImproperlyConfigured):
    """A B2 storage option is missing, unknown or of the wrong type."""


class B2Unavailable(B2StorageError):
    """B2 could not be reached, or answered 5xx/429 past retries. Safe to retry later."""

    retry_after = 5


class B2FileNotFound(B2StorageError, FileNotFoundError):
    """No (visible) file of that name is in the bucket."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No file named {name!r} in the bucket.")
        self.name = name


class B2InvalidName(B2StorageError, ValueError):
    """B2 would refuse this file name (too long, a control character, '//', ...)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"Invalid B2 file name {name[:100]!r}: {problem}.")
        self.name = name
        self.problem = problem


class B2UploadFailed(B2StorageError):
    """An upload did not complete; nothing of it is visible in the bucket."""
