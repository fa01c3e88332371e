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


class B2IntegrityError(B2StorageError, OSError):
    """A read did not get the bytes B2 stored: their SHA1 differs from B2's, the download ended
    early, or the file was replaced while it was read. Also an ``OSError``, so code that reads
    files treats it as the I/O error it is; the bytes in question were not returned."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"B2 file {name[:200]!r}: {problem}.")
        self.name = name
        self.problem = problem


class B2UploadFailed(B2StorageError):
    """An upload did not complete; nothing of it is visible in the bucket."""


class B2NameNotSealed(B2StorageError, PermissionError):
    """A download token for this exact name would also open another file whose name extends it.

    B2's download tokens cover a name *prefix*: a token for ``docs/a`` also opens ``docs/ab``
    and ``docs/a/x``. Such a name gets no token until the other file is renamed or removed.
    """

    def __init__(self, name: str, extended_by: str) -> None:
        super().__init__(
            f"A B2 download token for {name[:200]!r} would also open {extended_by[:200]!r}, whose "
            "name extends it; rename one of them (or save files in their own folders)."
        )
        self.name = name
        self.extended_by = extended_by


class B2AccessRefused(B2StorageError):
    """B2 refused our application key for this operation (a missing capability, another bucket
    or name prefix, or a wrong key). Retrying does not help until the key or settings change."""

    retry_after = 60

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        # What to change, for the log: the key, its capabilities, or its bucket and prefix.
        self.hint = hint or (
            "Check the application key: its capabilities, its bucket and name prefix, and that "
            "it is the key B2 issued."
        )
